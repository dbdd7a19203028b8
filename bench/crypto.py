"""`python -m bench.crypto`: file encryption and decryption throughput per schema, beside a bare
AES-GCM pass over the same bytes in the same run.

The bare pass (one-shot `AESGCM.encrypt` per 1 MiB chunk, no files) is the floor: what the CPU
and OpenSSL cost without Gaiwan. Each schema is measured twice: as a stream between memory
buffers (`crypto.encrypt`/`decrypt`: the schema's own cost, which the 2x target is about) and
file to file (`encrypt_file`/`decrypt_file`, what a data owner or node sees), next to a plain copy
of the same file, because on tmpfs writing fresh pages alone costs several times the bare pass.
Files live on /dev/shm when it exists, so the disk does not set the figures. Each figure is the
best of `REPEAT` runs, to keep other processes' noise out. Targets: aes-gcm schemas within 2x of
the bare pass, teaclave-file-128 >= 100 MB/s.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gaiwan import crypto

RESULTS = Path(__file__).resolve().parent / "results"
MB = 1_000_000
CHUNK = 1 << 20
SCHEMAS = (crypto.AES_GCM_128, crypto.AES_GCM_256, crypto.TEACLAVE_FILE_128)
TARGET_AES_GCM_RATIO = 2.0
TARGET_TEACLAVE_MB_S = 100.0
REPEAT = 3


class _Sink(io.RawIOBase):
    """A seekable destination that keeps nothing: streams measured without memory or I/O."""

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        return len(memoryview(data))  # type: ignore[arg-type]

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0

    def tell(self) -> int:
        return 0


def _rate(size: int, run: Callable[[], object]) -> float:
    """MB/s of the fastest of REPEAT calls of run over size bytes."""
    best = float("inf")
    for _ in range(REPEAT):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return size / MB / best


def _key(schema: str) -> tuple[bytes, bytes]:
    key = os.urandom(32 if schema == crypto.AES_GCM_256 else 16)
    return key, b"" if schema == crypto.TEACLAVE_FILE_128 else os.urandom(12)


def bare_aes_gcm(data: bytes, key_bytes: int = 16) -> float:
    """MB/s of one-shot AESGCM.encrypt over 1 MiB chunks of data, in memory."""
    aead, nonce = AESGCM(os.urandom(key_bytes)), os.urandom(12)
    view = memoryview(data)

    def run() -> None:
        for offset in range(0, len(view), CHUNK):
            aead.encrypt(nonce, view[offset:offset + CHUNK], None)
    return _rate(len(data), run)


def stream_rates(schema: str, data: bytes) -> tuple[float, float]:
    """(encrypt MB/s, decrypt MB/s) of crypto.encrypt / decrypt between memory buffers."""
    key, iv = _key(schema)
    sealed = io.BytesIO()
    cmac = crypto.encrypt(schema, key, iv, io.BytesIO(data), sealed, name="data.enc")
    enc = _rate(len(data), lambda: crypto.encrypt(schema, key, iv, io.BytesIO(data), _Sink(),
                                                  name="data.enc"))
    ciphertext = sealed.getvalue()  # BytesIO over bytes shares them: no copy inside the timing
    dec = _rate(len(data), lambda: crypto.decrypt(schema, key, iv, io.BytesIO(ciphertext),
                                                  _Sink(), cmac, "data.enc"))
    return enc, dec


def file_rates(schema: str, plain: Path, work: Path) -> tuple[float, float]:
    """(encrypt MB/s, decrypt MB/s) of crypto.encrypt_file / decrypt_file on plain."""
    key, iv = _key(schema)
    sealed, opened = work / f"{schema}.sealed", work / f"{schema}.plain"
    size = plain.stat().st_size
    cmac = b""

    def encrypt() -> None:
        nonlocal cmac
        sealed.unlink(missing_ok=True)
        cmac = crypto.encrypt_file(schema, key, iv, plain, sealed, name="data.enc")

    def decrypt() -> None:
        opened.unlink(missing_ok=True)
        crypto.decrypt_file(schema, key, iv, sealed, opened, expected_cmac=cmac, name="data.enc")
    enc, dec = _rate(size, encrypt), _rate(size, decrypt)
    sealed.unlink()
    opened.unlink()
    return enc, dec


def copy_rate(plain: Path, work: Path) -> float:
    """MB/s of a plain file copy on the same file system: the I/O floor of the file figures."""
    copy = work / "copy"

    def run() -> None:
        copy.unlink(missing_ok=True)
        shutil.copyfile(plain, copy)
    rate = _rate(plain.stat().st_size, run)
    copy.unlink()
    return rate


def measure(mib: int) -> dict[str, object]:
    """Every figure of one run over `mib` MiB of random data."""
    data = os.urandom(mib << 20)
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None
    with tempfile.TemporaryDirectory(prefix="gaiwan-bench-", dir=base) as tmp:
        work = Path(tmp)
        plain = work / "plain"
        plain.write_bytes(data)
        files = {s: file_rates(s, plain, work) for s in SCHEMAS}
        copy = copy_rate(plain, work)
    streams = {s: stream_rates(s, data) for s in SCHEMAS}
    schemas = {s: {"encrypt_mb_s": streams[s][0], "decrypt_mb_s": streams[s][1],
                   "file_encrypt_mb_s": files[s][0], "file_decrypt_mb_s": files[s][1]}
               for s in SCHEMAS}
    return {"time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "mib": mib,
            "bare_aes_gcm_128_mb_s": bare_aes_gcm(data, 16),
            "bare_aes_gcm_256_mb_s": bare_aes_gcm(data, 32), "file_copy_mb_s": copy,
            "schemas": schemas}


def verdicts(result: dict[str, object]) -> list[str]:
    """One line per target, met or missed."""
    schemas = result["schemas"]
    assert isinstance(schemas, dict)
    lines = []
    for schema, bare_key in ((crypto.AES_GCM_128, "bare_aes_gcm_128_mb_s"),
                             (crypto.AES_GCM_256, "bare_aes_gcm_256_mb_s")):
        bare = float(result[bare_key])  # type: ignore[arg-type]
        worst = min(schemas[schema]["encrypt_mb_s"], schemas[schema]["decrypt_mb_s"])
        ok = bare / worst <= TARGET_AES_GCM_RATIO
        lines.append(f"{schema} stream within {TARGET_AES_GCM_RATIO:g}x of bare AES-GCM "
                     f"({bare / worst:.2f}x): {'met' if ok else 'missed'}")
    worst = min(schemas[crypto.TEACLAVE_FILE_128].values())
    lines.append(f"{crypto.TEACLAVE_FILE_128} (stream and file) >= {TARGET_TEACLAVE_MB_S:g} MB/s ({worst:.0f}): "
                 f"{'met' if worst >= TARGET_TEACLAVE_MB_S else 'missed'}")
    return lines


def table(result: dict[str, object]) -> str:
    schemas = result["schemas"]
    assert isinstance(schemas, dict)
    rows = [f"{'measure':<30}{'encrypt MB/s':>14}{'decrypt MB/s':>14}",
            f"{'bare AES-GCM-128 (memory)':<30}{result['bare_aes_gcm_128_mb_s']:>14.0f}",
            f"{'bare AES-GCM-256 (memory)':<30}{result['bare_aes_gcm_256_mb_s']:>14.0f}",
            f"{'plain file copy (no crypto)':<30}{result['file_copy_mb_s']:>14.0f}"]
    for schema, r in schemas.items():
        rows.append(f"{schema + ' stream':<30}{r['encrypt_mb_s']:>14.0f}{r['decrypt_mb_s']:>14.0f}")
        rows.append(f"{schema + ' file':<30}{r['file_encrypt_mb_s']:>14.0f}{r['file_decrypt_mb_s']:>14.0f}")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.crypto")
    parser.add_argument("--mib", type=int, default=256, help="size of the test file in MiB")
    args = parser.parse_args()
    result = measure(args.mib)
    print(f"file crypto over {args.mib} MiB")
    print(table(result))
    for line in verdicts(result):
        print(line)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"crypto-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(result, indent=2))
    print(f"written {out}")


if __name__ == "__main__":
    main()
