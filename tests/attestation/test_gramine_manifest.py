"""Tests that the Gramine manifest template renders to a manifest running a Gaiwan service."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "gramine" / "gaiwan-service.manifest.template"
VALUES = {"service": "storage", "home": "/srv/gaiwan", "log_level": "error", "venv": "/opt/venv",
          "arch_libdir": "/lib/x86_64-linux-gnu", "gramine.libos": "/usr/lib/gramine/libsysdb.so",
          "gramine.runtimedir()": "/usr/lib/gramine/runtime/glibc",
          "bound_inputs": "config=" + "ab" * 32}


def render_template(text: str, **values: str) -> str:
    """Substitutes `{{ name }}` the way gramine-manifest's Jinja2 does for these plain names."""
    known = {**VALUES, **values}
    return re.sub(r"\{\{\s*([\w.()]+)\s*\}\}", lambda m: known[m.group(1)], text)


def test_template_renders_to_valid_manifest() -> None:
    """Every placeholder is known, the result is TOML, and it runs `gaiwan service` with DCAP,
    its bound inputs in the measured environment."""
    manifest = tomllib.loads(render_template(TEMPLATE.read_text()))
    assert manifest["loader"]["argv"] == ["python3", "-m", "gaiwan", "service", "storage",
                                          "--home", "/srv/gaiwan"]
    assert manifest["sgx"]["remote_attestation"] == "dcap"
    assert "file:/opt/venv/" in manifest["sgx"]["trusted_files"]
    assert "file:/srv/gaiwan/" in manifest["sgx"]["allowed_files"]
    assert not set(manifest["sgx"]["trusted_files"]) & set(manifest["sgx"]["allowed_files"])
    assert manifest["loader"]["env"]["GAIWAN_BOUND_INPUTS"] == "config=" + "ab" * 32
    # The CA bundle HTTPS transfers trust is measured, and the one OpenSSL is pointed at.
    bundle = manifest["loader"]["env"]["SSL_CERT_FILE"]
    assert f"file:{bundle}" in manifest["sgx"]["trusted_files"]
