"""End to end: secrets given to the platform never appear readable in its files or output."""

from __future__ import annotations

import base64
import secrets

import pytest

from gaiwan.client import FunctionArgument
from tests.support.platform import SHARED, Platform, frontend


def _forms(secret: bytes) -> list[bytes]:
    """The secret as plaintext and in the encodings a careless log line would use."""
    return [secret, secret.hex().encode(), secret.hex().upper().encode(),
            base64.b64encode(secret), base64.urlsafe_b64encode(secret).rstrip(b"=")]


@pytest.mark.platform
@pytest.mark.xdist_group(SHARED)
def test_no_secret_in_logs_storage_or_supervisor_output(platform: Platform) -> None:
    """A task argument, a file key and the admin password are nowhere in plaintext, hex or base64."""
    message = f"canary-{secrets.token_hex(12)}".encode()
    file_key = b"KEY!" + secrets.token_bytes(12)
    client = frontend(platform)
    function_id = client.register_function(
        name="builtin-echo", description="echo", executor_type="builtin",
        arguments=[FunctionArgument("message")])
    task_id = client.create_task(function_id=function_id,
                                 function_arguments={"message": message.decode()},
                                 executor="builtin")
    client.invoke_task(task_id)
    assert client.get_task_result(task_id) == message
    client.register_input_file("http://localhost:1/never-fetched.enc", "aes-gcm-128",
                               file_key, b"\x02" * 12, b"\x01" * 16)

    files = [f for d in (platform.home.logs, platform.home.storage) for f in d.rglob("*")
             if f.is_file()]
    assert files, "no log or storage files to scan"
    blobs = {str(f): f.read_bytes() for f in files}
    blobs["supervisor output"] = platform.output.encode()
    for secret in (message, file_key, platform.admin_password.encode()):
        for form in _forms(secret):
            leaks = [name for name, data in blobs.items() if form in data]
            assert not leaks, f"secret found in {leaks}"
