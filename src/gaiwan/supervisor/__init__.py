"""Running a whole platform on one host: `gaiwan up` and `gaiwan status`."""

from ._child import EX_CONFIG, output_file
from ._health import Probe, check_all, check_internal, check_public, internal_channel, public_channel
from ._statefile import read_state, state_path
from ._supervisor import Supervisor
from ._view import LineReporter, LiveReporter, ServiceRow

__all__ = [
    "EX_CONFIG",
    "LineReporter",
    "LiveReporter",
    "Probe",
    "ServiceRow",
    "Supervisor",
    "check_all",
    "check_internal",
    "check_public",
    "internal_channel",
    "output_file",
    "public_channel",
    "read_state",
    "state_path",
]
