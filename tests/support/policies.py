"""The packaged Cedar schema and policies as an in-process engine, compiled once per test run:
services under test get real decisions without an access control server."""

from __future__ import annotations

import functools

from gaiwan.services.access_control import PolicyEngine
from gaiwan.services.access_control.service import packaged_policy_dir


@functools.cache
def packaged_engine() -> PolicyEngine:
    base = packaged_policy_dir()
    return PolicyEngine.load(base / "schema.cedarschema", sorted(base.glob("*.cedar")))
