"""Generates the protobuf/gRPC stubs from proto/ whenever the package is built or installed.

The stubs are build products (src/gaiwan/rpc/pb/, ignored by git), never edited by hand. protoc
emits top-level imports (`import teaclave_common_pb2`); they are rewritten to package-relative
imports so the stubs live inside `gaiwan.rpc.pb` instead of polluting sys.path.
"""

import pathlib
import re

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = pathlib.Path(__file__).parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "src" / "gaiwan" / "rpc" / "pb"


def generate_stubs() -> None:
    import grpc_tools
    from grpc_tools import protoc

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    protos = sorted(str(p.name) for p in PROTO_DIR.glob("*.proto"))
    include = pathlib.Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"-I{include}",
        f"--python_out={OUT_DIR}",
        f"--pyi_out={OUT_DIR}",
        f"--grpc_python_out={OUT_DIR}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError("protoc failed on " + " ".join(protos))
    local = {p[: -len(".proto")] for p in protos}
    pattern = re.compile(r"^import (\w+)_pb2(_grpc)? as", re.M)
    for path in OUT_DIR.glob("*_pb2*.py*"):
        text = path.read_text()
        fixed = pattern.sub(
            lambda m: f"from . import {m.group(1)}_pb2{m.group(2) or ''} as"
            if m.group(1) in local
            else m.group(0),
            text,
        )
        if fixed != text:
            path.write_text(fixed)
    (OUT_DIR / "__init__.py").write_text('"""Generated protobuf and gRPC stubs (see setup.py)."""\n')


class BuildPyWithProtos(build_py):
    def run(self) -> None:
        generate_stubs()
        super().run()


setup(cmdclass={"build_py": BuildPyWithProtos})
