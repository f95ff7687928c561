"""Dockerfile invariants (no Docker engine here) and gunicorn settings from env."""
from __future__ import annotations

import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
DOCKERFILE = (APP_DIR / "Dockerfile").read_text(encoding="utf-8")


def instructions(name: str) -> list[str]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in joined.splitlines() if line.upper().startswith(name + " ")]


def test_base_image_is_pinned_slim_python():
    froms = instructions("FROM")
    assert len(froms) == 1
    assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm(@sha256:[0-9a-f]{64})?", froms[0].strip())
    assert ":latest" not in DOCKERFILE


def test_runs_as_non_root_uid_10001():
    users = instructions("USER")
    assert users and users[-1].strip().split(":")[0] == "10001"
    assert "--uid 10001" in DOCKERFILE


def test_requirements_installed_from_file():
    runs = " ".join(instructions("RUN"))
    assert "pip install --no-cache-dir -r requirements.txt" in runs
    assert any("requirements.txt" in c for c in instructions("COPY"))


def test_healthcheck_uses_python_against_health():
    hc = instructions("HEALTHCHECK")
    assert len(hc) == 1
    assert "python" in hc[0] and "/health" in hc[0] and "curl" not in hc[0]
    cmd = re.search(r'"-c", "(.*)"\]', hc[0]).group(1)
    compile(cmd.replace("\\'", "'"), "<healthcheck>", "exec")  # valid Python


def test_init_process_and_cmd():
    assert "tini" in " ".join(instructions("RUN"))
    assert instructions("ENTRYPOINT")[0].strip() == '["/usr/bin/tini", "--"]'
    assert instructions("CMD")[-1].strip() == '["gunicorn", "-c", "gunicorn.conf.py", "clinical_bdd.wsgi:app"]'
    assert "EXPOSE 3000" in DOCKERFILE


def test_dockerignore_excludes_venv_and_tests():
    ignored = (APP_DIR / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and "tests" in ignored


def test_requirements_are_pinned():
    for line in (APP_DIR / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][A-Za-z0-9.\-]*", line), line


def load_conf(env: dict) -> dict:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "MAX_", "REQUEST_", "GRACEFUL_", "PORT", "PROMETHEUS_", "CLINICAL_BDD_"))}
    code = (
        "import json, runpy, os; c = runpy.run_path('gunicorn.conf.py');"
        "print(json.dumps({k: c[k] for k in ('bind','workers','threads','timeout','graceful_timeout','worker_class','control_socket_disable')}"
        " | {'mp': os.environ['PROMETHEUS_MULTIPROC_DIR'], 'slots': os.environ['CLINICAL_BDD_SLOT_DIR']}))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=APP_DIR, env={**keep, **env}, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    import json

    return json.loads(out.stdout)


def test_gunicorn_conf_defaults(tmp_path):
    conf = load_conf({"TMPDIR": str(tmp_path)})
    assert conf["bind"] == "0.0.0.0:3000"
    assert conf["workers"] == 2
    assert conf["threads"] == 12  # MAX_CONCURRENT_REQUESTS (10) + 2 spare
    assert conf["timeout"] == 300
    assert conf["graceful_timeout"] == 30
    assert conf["worker_class"] == "gthread"
    assert conf["control_socket_disable"] is True
    assert conf["mp"].startswith(str(tmp_path)) and conf["slots"].startswith(str(tmp_path))


def test_gunicorn_conf_from_env(tmp_path):
    conf = load_conf(
        {
            "PORT": "8080", "GUNICORN_WORKERS": "4", "MAX_CONCURRENT_REQUESTS": "3",
            "REQUEST_TIMEOUT_SECONDS": "60", "GRACEFUL_TIMEOUT_SECONDS": "20",
            "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom"), "TMPDIR": str(tmp_path),
        }
    )
    assert conf["bind"] == "0.0.0.0:8080"
    assert (conf["workers"], conf["threads"], conf["timeout"], conf["graceful_timeout"]) == (4, 5, 60, 20)
    assert conf["mp"] == str(tmp_path / "prom")
    conf = load_conf({"GUNICORN_THREADS": "7", "TMPDIR": str(tmp_path)})
    assert conf["threads"] == 7


def test_gunicorn_conf_rejects_bad_values(tmp_path):
    keep = dict(os.environ, TMPDIR=str(tmp_path), GUNICORN_WORKERS="zero")
    out = subprocess.run([sys.executable, "-c", "import runpy; runpy.run_path('gunicorn.conf.py')"], cwd=APP_DIR, env=keep, capture_output=True, text=True, timeout=30)
    assert out.returncode != 0 and "GUNICORN_WORKERS" in out.stderr


def test_on_starting_empties_multiproc_dir(tmp_path):
    prom = tmp_path / "prom"
    prom.mkdir()
    (prom / "counter_123.db").write_bytes(b"stale")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(prom)
    try:
        conf = runpy.run_path(str(APP_DIR / "gunicorn.conf.py"))

        class Log:
            def info(self, *a, **k):
                pass

        class Server:
            log = Log()

        conf["on_starting"](Server())
        assert list(prom.iterdir()) == []
    finally:
        os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)
        os.environ.pop("CLINICAL_BDD_SLOT_DIR", None)


def _python_for_uid(uid: int, site: str) -> str | None:
    """A Python of the same minor version that an unprivileged uid can run."""
    want = f"{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (f"/usr/bin/python{want}", f"/usr/local/bin/python{want}"):
        if not os.path.exists(candidate):
            continue
        probe = subprocess.run(
            ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "env", "-i", f"PYTHONPATH={site}",
             candidate, "-c", "import flask, gunicorn, prometheus_client, gherkin"],
            capture_output=True, timeout=30,
        )
        if probe.returncode == 0:
            return candidate
    return None


def test_runs_as_uid_10001_with_read_only_code_and_only_tmp_writable():
    """What the container does: uid 10001, code not writable, no HOME, only TMPDIR writable."""
    import shutil
    import signal
    import sysconfig
    import tempfile
    import time

    import requests

    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to drop to uid 10001")
    site = sysconfig.get_paths()["purelib"]
    python = _python_for_uid(10001, site)
    if python is None:
        pytest.skip("no Python runnable by uid 10001 with the venv's packages")

    code = Path(tempfile.mkdtemp(prefix="clinical_bdd_ro_", dir="/tmp"))
    writable = Path(tempfile.mkdtemp(prefix="clinical_bdd_rw_", dir="/tmp"))
    proc = None
    try:
        shutil.copytree(APP_DIR / "clinical_bdd", code / "clinical_bdd", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(APP_DIR / "gunicorn.conf.py", code / "gunicorn.conf.py")
        for root, dirs, files in os.walk(code):
            os.chmod(root, 0o555)
            for f in files:
                os.chmod(os.path.join(root, f), 0o444)
        os.chown(writable, 10001, 10001)
        before = sorted(str(p) for p in code.rglob("*"))
        from conftest import free_port

        port = free_port()
        env = {
            "PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "TMPDIR": str(writable),
            "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": site, "GUNICORN_WORKERS": "2",
        }
        proc = subprocess.Popen(
            ["setpriv", "--reuid=10001", "--regid=10001", "--clear-groups", "env", "-i",
             *[f"{k}={v}" for k, v in env.items()],
             python, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "clinical_bdd.wsgi:app"],
            cwd=code, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        health = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                health = requests.get(base + "/health", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        assert health is not None and health.status_code == 200, proc.poll()
        assert health.json()["checks"]["metrics"] == {"status": "pass", "multiprocess": True}
        r = requests.post(base + "/api/v1/analyze", json={"content": "Metformin should be used in adults. A"}, timeout=10)
        assert r.status_code == 200
        assert "clinical_bdd_scenarios_generated_total 1.0" in requests.get(base + "/metrics", timeout=5).text
        assert sorted(str(p) for p in code.rglob("*")) == before  # nothing written next to the code
        assert any(writable.iterdir())  # metrics and slot files live in TMPDIR
    finally:
        if proc is not None and proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        for path in (code, writable):
            for root, dirs, files in os.walk(path):
                os.chmod(root, 0o755)
            shutil.rmtree(path, ignore_errors=True)
