"""A real Gaiwan platform for tests: `gaiwan init --ports auto` then `gaiwan up --no-tui`.

Every platform gets its own data directory and free ports, so tests run beside each other and
beside a developer's platform on the default ports. Readiness comes from the supervisor's own
state lines (it prints one per change), not from sleeping.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from gaiwan.config import PUBLIC_ENDPOINTS, Config
from gaiwan.home import SERVICES, Home
from gaiwan.supervisor import read_state

START_TIMEOUT_S = float(os.environ.get("GAIWAN_TEST_START_TIMEOUT", "180"))
STOP_TIMEOUT_S = 60.0
SHARED = "platform-shared"
FRESH = "platform-fresh"
"""xdist groups: tests on the shared platform run in one worker (one platform per run), tests
that start their own platforms in the other, so `-n 2 --dist loadgroup` keeps both cores busy."""


def gaiwan(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Runs the CLI as a user would, in a child process."""
    proc = subprocess.run([sys.executable, "-m", "gaiwan", *args], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if check and proc.returncode != 0:
        raise AssertionError(f"gaiwan {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout}\n{proc.stderr}")
    return proc


class Platform:
    """One platform in a temporary data directory, driven through its command line."""

    def __init__(self, root: Path) -> None:
        self.home = Home.at(root)
        self.admin_password = "pw-" + secrets.token_urlsafe(12)
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._eof = False

    # -- lifecycle ----------------------------------------------------------------------------

    def init(self) -> "Platform":
        gaiwan("init", "--home", str(self.home.root), "--ports", "auto",
               "--admin-password", self.admin_password)
        return self

    def start(self, wait: bool = True) -> "Platform":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gaiwan", "up", "--no-tui", "--home", str(self.home.root)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
            bufsize=1,
        )
        mark = len(self.lines)
        threading.Thread(target=self._follow, args=(self.proc,), daemon=True).start()
        if wait:
            line = self.wait_line(
                lambda w: w[1:3] == ["platform", "ready"] or w[2:3] == ["failed"],
                START_TIMEOUT_S, since=mark, what="every service ready")
            if line.split()[2] == "failed":
                raise AssertionError(f"a service cannot start: {line}\n{self.tail()}")
        return self

    def stop(self) -> None:
        """SIGTERM the supervisor and insist on a clean exit (status 0, all services stopped)."""
        assert self.proc is not None, "not started"
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError(f"supervisor did not stop in {STOP_TIMEOUT_S} s\n{self.tail()}")
        assert code == 0, f"supervisor exited {code}\n{self.tail()}"
        state = read_state(self.home) or {}
        alive = [s for s, i in state.get("services", {}).items() if i.get("state") != "stopped"
                 and i.get("state") != "failed"]
        assert not alive, f"services not stopped: {alive}"

    def restart(self) -> "Platform":
        self.stop()
        return self.start()

    def close(self) -> None:
        """Teardown: stop whatever still runs, without judging how it went."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    # -- what tests look at -------------------------------------------------------------------

    @property
    def config(self) -> Config:
        return Config.load(self.home)

    @property
    def endpoints(self) -> dict[str, str]:
        config = self.config
        return {name: config.target(name) for name in (*SERVICES, *PUBLIC_ENDPOINTS)}

    @property
    def output(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def pid(self, service: str) -> int:
        pid = (read_state(self.home) or {})["services"][service]["pid"]
        assert isinstance(pid, int), f"{service} has no process"
        return pid

    def wait_line(self, match: Callable[[list[str]], bool], timeout: float, since: int = 0,
                  what: str = "") -> str:
        """Blocks until the supervisor prints a line whose words satisfy `match`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = since
            while True:
                for line in self.lines[seen:]:
                    if match(line.split()):
                        return line
                seen = len(self.lines)
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc is not None and self.proc.poll() is not None
                                 and self._eof):
                    raise AssertionError(f"timed out waiting for {what or 'a line'}\n{self.tail()}")
                self._cond.wait(left)

    def wait_state(self, service: str, state: str, since: int = 0, timeout: float = 120) -> str:
        return self.wait_line(lambda w: w[1:3] == [service, state], timeout, since,
                              f"{service} {state}")

    def mark(self) -> int:
        """A position in the supervisor's output, to wait for lines printed after it."""
        with self._cond:
            return len(self.lines)

    def tail(self, lines: int = 15) -> str:
        parts = ["--- supervisor output ---\n" + "\n".join(self.lines[-40:])]
        if self.home.logs.is_dir():
            for path in sorted(self.home.logs.iterdir()):
                text = path.read_text(errors="replace").splitlines()[-lines:]
                parts.append(f"--- {path.name} ---\n" + "\n".join(text))
        return "\n".join(parts)

    # -- internals ----------------------------------------------------------------------------

    def _follow(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        with self._cond:
            self._eof = False
        for line in proc.stdout:
            with self._cond:
                self.lines.append(line.rstrip("\n"))
                self._cond.notify_all()
        proc.wait()
        with self._cond:
            self._eof = True
            self._cond.notify_all()


def client_classes() -> tuple[type, type]:
    """The SDK's two service classes, imported when a test first needs them."""
    from gaiwan.client import AuthenticationService, FrontendService

    return AuthenticationService, FrontendService


def login(platform: Platform, user: str = "admin", password: str | None = None) -> str:
    """A token for `user` (default: the admin made at init), through the attested public API."""
    auth_cls, _ = client_classes()
    home = platform.home
    with auth_cls(platform.endpoints["authentication_api"], home.as_root_ca_cert,
                  home.enclave_info) as auth:
        return str(auth.user_login(user, password or platform.admin_password))


def frontend(platform: Platform, user: str = "admin", token: str | None = None,
             password: str | None = None) -> object:
    """A FrontendService client carrying `user`'s credentials, with full attestation checks."""
    _, fe_cls = client_classes()
    home = platform.home
    client = fe_cls(platform.endpoints["frontend_api"], home.as_root_ca_cert, home.enclave_info)
    client.metadata = {"id": user, "token": token or login(platform, user, password)}
    return client


def status_of(task: object) -> str:
    """A task's status name from whatever `get_task` returned (Teaclave's dict or a typed Task)."""
    status = task.get("status", "Created") if isinstance(task, dict) else getattr(task, "status")
    if isinstance(status, str):
        return status
    names = {0: "Created", 1: "DataAssigned", 2: "Approved", 3: "Staged", 4: "Running",
             10: "Finished", 20: "Canceled", 99: "Failed"}
    return names[int(status)]
