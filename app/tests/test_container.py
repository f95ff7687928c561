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
