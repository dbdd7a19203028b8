"""Moving a task's encrypted files between their URLs and an execution node (spec §7 schemes):
`http(s)` GET/PUT, `file://`, `data:` (inputs only) and the platform's own `fusion://`."""

from ._errors import TransportError
from ._fusion import FusionStore
from ._limits import Limits
from ._transport import INPUT_SCHEMES, OUTPUT_SCHEMES, Transport

__all__ = ["INPUT_SCHEMES", "OUTPUT_SCHEMES", "FusionStore", "Limits", "Transport",
           "TransportError"]
