"""Tests of `gaiwan up` and `gaiwan status` against real platforms."""

from __future__ import annotations

import os
import select
import signal
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization

from gaiwan.attestation.enclave_info import sign, table_name
from gaiwan.config import PUBLIC_ENDPOINTS
from gaiwan.home import SERVICES
from tests.support.platform import FRESH, SHARED, Platform, gaiwan


@pytest.mark.platform
@pytest.mark.xdist_group(SHARED)
def test_status_reports_every_endpoint_serving(platform: Platform) -> None:
    """`gaiwan status` checks all internal and public endpoints and exits 0 when all serve."""
    result = gaiwan("status", "--home", str(platform.home.root))
    for name in (*SERVICES, *PUBLIC_ENDPOINTS):
        row = next(line for line in result.stdout.splitlines() if f" {name} " in line)
        assert "serving" in row and "not_serving" not in row, row
    assert f"mode: {platform.config.mode}" in result.stdout


@pytest.mark.platform
@pytest.mark.xdist_group(SHARED)
def test_killed_service_is_restarted_and_serves_again(platform: Platform) -> None:
    """SIGKILL of a service's process: the supervisor restarts it and it becomes ready again."""
    before = platform.pid("scheduler")
    mark = platform.mark()
    os.kill(before, signal.SIGKILL)
    line = platform.wait_state("scheduler", "restarting", since=mark, timeout=30)
    assert "restarts=1" in line and "SIGKILL" in line
    platform.wait_state("scheduler", "ready", since=mark)
    platform.wait_line(lambda w: w[1:3] == ["platform", "ready"], 60, since=mark)
    assert platform.pid("scheduler") != before
    assert gaiwan("status", "--home", str(platform.home.root), check=False).returncode == 0


@pytest.mark.platform
@pytest.mark.xdist_group(SHARED)
def test_second_supervisor_for_same_home_is_refused(platform: Platform) -> None:
    """`gaiwan up` on a home that already has a live supervisor exits at once with an error."""
    result = gaiwan("up", "--no-tui", "--home", str(platform.home.root), check=False, timeout=60)
    assert result.returncode != 0
    assert "another supervisor" in result.stderr
    assert gaiwan("status", "--home", str(platform.home.root), check=False).returncode == 0


@pytest.mark.platform
@pytest.mark.xdist_group(FRESH)
def test_sigterm_stops_services_in_reverse_order(fresh_platform: Callable[..., Platform]) -> None:
    """SIGTERM: every service stops, last started first, the supervisor exits 0, status fails."""
    p = fresh_platform()
    pids = [p.pid(s) for s in SERVICES]
    mark = p.mark()
    p.stop()
    stopped = [line.split()[1] for line in p.lines[mark:] if line.split()[2:3] == ["stopped"]]
    assert stopped[:len(SERVICES)] == list(reversed(SERVICES))
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    assert gaiwan("status", "--home", str(p.home.root), "--timeout", "1",
                  check=False).returncode == 1


@pytest.mark.platform
@pytest.mark.xdist_group(FRESH)
def test_services_end_when_the_supervisor_is_killed(fresh_platform: Callable[..., Platform]) -> None:
    """SIGKILL of the supervisor itself leaves no orphaned service behind (parent-death signal)."""
    p = fresh_platform()
    pidfds = {os.pidfd_open(p.pid(s)): s for s in SERVICES}
    assert p.proc is not None
    p.proc.kill()
    p.proc.wait(10)
    poller = select.poll()
    for fd in pidfds:
        poller.register(fd, select.POLLIN)
    left = dict(pidfds)
    while left:
        ready = poller.poll(20_000)  # wakes when a process exits; no sleeping loop
        assert ready, "outlived their supervisor: " + "; ".join(
            f"{s} (log ends {p.home.log_file(s).read_text()[-600:]!r})" for s in left.values())
        for fd, _ in ready:
            del left[fd]
            poller.unregister(fd)
    for fd in pidfds:
        os.close(fd)


@pytest.mark.platform
@pytest.mark.xdist_group(FRESH)
def test_service_not_in_enclave_info_fails_without_restart(fresh_platform: Callable[..., Platform]) -> None:
    """A measurement missing from the signed enclave_info: exit 78, shown failed with what to run."""
    p = fresh_platform(start=False)
    _replace_measurement(p, "frontend")
    p.start(wait=False)
    line = p.wait_state("frontend", "failed", timeout=180)
    assert "enclave-info refresh" in line
    for service in SERVICES[:-1]:
        p.wait_state(service, "ready", timeout=120)
    assert not any(w.split()[1:3] == ["frontend", "restarting"] for w in p.lines)
    state = gaiwan("status", "--home", str(p.home.root), "--timeout", "1", check=False)
    assert state.returncode == 1
    p.stop()


def _replace_measurement(p: Platform, service: str) -> None:
    """Lists another mr_enclave for `service` and re-signs enclave_info with the local auditor."""
    info = p.home.enclave_info
    lines = info.read_text().splitlines(keepends=True)
    start = lines.index(f"[{table_name(service)}]\n")
    at = next(i for i in range(start, len(lines)) if lines[i].startswith("mr_enclave"))
    lines[at] = f'mr_enclave = "{"ab" * 32}"\n'
    content = "".join(lines).encode()
    info.write_bytes(content)
    keys = sorted((p.home.keys / "auditors").glob("*.key.pem"))
    assert keys, "gaiwan init made no local auditor key"
    for key_path in keys:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        name = key_path.name.removesuffix(".key.pem")
        (p.home.auditors / f"{name}.sign.sha256").write_bytes(sign(content, key))  # type: ignore[arg-type]
