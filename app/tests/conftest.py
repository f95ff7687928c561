"""Shared fixtures: an in-process app, and real gunicorn servers on loopback."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import requests

APP_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(APP_DIR))
# the in-process app analyses in the request thread; gunicorn servers use child processes
os.environ["ANALYSIS_ISOLATION"] = "inline"

from clinical_bdd import create_app  # noqa: E402
from clinical_bdd.gherkin_writer import parse  # noqa: E402

GUIDELINES = sorted((APP_DIR / "tests" / "guidelines").glob("*.md"))


@pytest.fixture(scope="session")
def app():
    return create_app({"TESTING": True})


@pytest.fixture()
def client(app):
    return app.test_client()


def parse_feature(text: str) -> dict:
    """Parse with gherkin-official; fails the test on any syntax error."""
    return parse(text)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GunicornServer:
    def __init__(self, env_overrides: dict | None = None, workers: int = 2):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.tmp = tempfile.TemporaryDirectory(prefix="clinical_bdd_test_")
        self.log_path = Path(self.tmp.name) / "server.log"
        env = {
            k: v for k, v in os.environ.items()
            if not k.startswith(("PROMETHEUS_MULTIPROC", "CLINICAL_BDD_", "ANALYSIS_ISOLATION"))
        }
        env.update(
            {
                "GUNICORN_WORKERS": str(workers),
                "TMPDIR": self.tmp.name,  # multiproc and slot dirs are created under it
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(env_overrides or {})
        self.env = env
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> "GunicornServer":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                "--bind", f"127.0.0.1:{self.port}", "clinical_bdd.wsgi:app",
            ],
            cwd=APP_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited early:\n" + self.log_text())
            try:
                if requests.get(self.base + "/health", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            raise RuntimeError("gunicorn did not become healthy:\n" + self.log_text())
        self.wait_workers()
        return self

    def worker_pids(self) -> set[int]:
        pids = set()
        for line in self.log_text().splitlines():
            with contextlib.suppress(ValueError):
                rec = json.loads(line)
                if rec.get("message") == "application created":
                    pids.add(rec["pid"])
        return pids

    def wait_workers(self, timeout: float = 15.0) -> None:
        want = int(self.env["GUNICORN_WORKERS"])
        deadline = time.monotonic() + timeout
        while len(self.worker_pids()) < want and time.monotonic() < deadline:
            time.sleep(0.1)

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def log_records(self) -> list[dict]:
        return [json.loads(line) for line in self.log_text().splitlines() if line.strip()]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        elif self.proc:
            # master gone: make sure no orphaned worker survives
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        if getattr(self, "_log", None):
            self._log.close()

    def cleanup(self) -> None:
        self.stop()
        self.tmp.cleanup()


@pytest.fixture()
def gunicorn_server():
    """Factory: gunicorn_server(env_overrides, workers) -> started server; always stopped."""
    servers: list[GunicornServer] = []

    def start(env_overrides: dict | None = None, workers: int = 2) -> GunicornServer:
        server = GunicornServer(env_overrides, workers)
        servers.append(server)
        return server.start()

    yield start
    for server in servers:
        server.cleanup()
