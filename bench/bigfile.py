"""`python -m bench.bigfile`: a 1 GiB input through a real task on a real platform, measuring
the execution node's peak memory.

builtin-password-check streams its `exposed_passwords` input line by line, so whatever the node
holds beyond its baseline is the data path's own cost (fetch, MAC check, decryption). The input
is generated (one 16-hex-digit password per line), sealed and registered with the SDK's data
flow over a file:// URL; the password comes as a `data:` URL. Peak memory is the execution
service's VmHWM (/proc/<pid>/status): the high-water mark of its resident set, sampled before
the task (baseline) and after it. Target: < 256 MiB. Not part of the test run: it moves
gigabytes and takes a while.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import secrets
import tempfile
import time
from pathlib import Path

from gaiwan import crypto
from gaiwan.client import DataMap, FileKey, Gaiwan, TaskStatus
from tests.support.parties import add_user, register_builtin
from tests.support.platform import Platform

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MIB = 256
_LINE = 17  # 16 hex digits and a newline


def vm_hwm_kib(pid: int) -> int:
    """The process's peak resident set size in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for pid {pid}")


def write_passwords(path: Path, size: int, last: str) -> None:
    """About `size` bytes of random passwords, one per line, ending with `last`."""
    block = 1 << 20
    with open(path, "wb") as out:
        for _ in range(size // block):
            out.write(b"".join(secrets.token_hex(8).encode() + b"\n"
                               for _ in range(block // _LINE)))
        out.write(last.encode() + b"\n")


def _password_url(key: FileKey, password: str) -> tuple[str, bytes]:
    """A data: URL carrying the aes-gcm sealed password, and its cmac."""
    sealed = io.BytesIO()
    cmac = crypto.encrypt(key.schema, key.key, key.iv, io.BytesIO(password.encode()), sealed)
    return "data:text/plain;base64," + base64.b64encode(sealed.getvalue()).decode(), cmac


def run(mib: int, schema: str, work: Path) -> dict[str, object]:
    platform = Platform(work / "home").init().start()
    try:
        owner = add_user(platform, "fn-owner", "FunctionOwner")
        user: Gaiwan = add_user(platform, "holder", "DataOwner", "bench")
        function_id = register_builtin(owner, "builtin-password-check", [],
                                       ["password", "exposed_passwords"])
        password = secrets.token_hex(8)
        plain = work / "exposed.txt"
        write_passwords(plain, mib << 20, password)
        size = plain.stat().st_size
        started = time.perf_counter()
        exposed = user.data.upload_input(plain, (work / "exposed.enc").as_uri(), schema)
        sealed_s = time.perf_counter() - started
        plain.unlink()
        key = FileKey.generate(crypto.AES_GCM_128)
        url, cmac = _password_url(key, password)
        secret = user.frontend.register_input_file(url, key.schema, key.key, key.iv, cmac)
        me = [user.user_id]
        task_id = user.create_task(function_id, "builtin", {},
                                   {"password": me, "exposed_passwords": me})
        user.frontend.assign_data_to_task(task_id, [DataMap("password", secret),
                                                    DataMap("exposed_passwords", exposed.data_id)])
        pid = platform.pid("execution")
        baseline = vm_hwm_kib(pid)
        started = time.perf_counter()
        user.frontend.invoke_task(task_id)
        task = user.wait(task_id, 1800)
        task_s = time.perf_counter() - started
        peak = vm_hwm_kib(pid)
        assert task.status is TaskStatus.FINISHED and task.result() == b"true", task
        user.close()
        owner.close()
    finally:
        platform.stop()
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "input_bytes": size,
            "schema": schema, "seal_and_upload_s": sealed_s, "task_s": task_s,
            "execution_vm_hwm_before_mib": baseline / 1024, "execution_vm_hwm_after_mib": peak / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bigfile")
    parser.add_argument("--mib", type=int, default=1024, help="input size in MiB")
    parser.add_argument("--schema", default=crypto.AES_GCM_128,
                        choices=(crypto.AES_GCM_128, crypto.AES_GCM_256, crypto.TEACLAVE_FILE_128))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gaiwan-bigfile-") as tmp:
        result = run(args.mib, args.schema, Path(tmp))
    peak = float(result["execution_vm_hwm_after_mib"])  # type: ignore[arg-type]
    mb = int(result["input_bytes"]) / 1e6  # type: ignore[call-overload]
    print(f"{mb:.0f} MB {args.schema} input through builtin-password-check")
    print(f"seal + register: {result['seal_and_upload_s']:.1f} s; task invoke -> Finished: "
          f"{result['task_s']:.1f} s ({mb / float(result['task_s']):.0f} MB/s)")  # type: ignore[arg-type]
    print(f"execution node VmHWM: {result['execution_vm_hwm_before_mib']:.0f} MiB before, "
          f"{peak:.0f} MiB after")
    print(f"target peak < {TARGET_MIB} MiB: {'met' if peak < TARGET_MIB else 'missed'}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bigfile-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
