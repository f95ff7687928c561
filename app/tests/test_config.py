"""Secrets from files, settings from env, the metric_names command."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clinical_bdd import create_app
from clinical_bdd.config import ConfigError, Settings, read_secret

APP_DIR = Path(__file__).resolve().parent.parent


def test_read_secret_prefers_file(tmp_path, monkeypatch):
    secret = tmp_path / "jwt"
    secret.write_text("from-file\n")
    monkeypatch.setenv("JWT_SECRET_FILE", str(secret))
    monkeypatch.setenv("JWT_SECRET", "from-env")
    assert read_secret("JWT_SECRET") == "from-file"


def test_read_secret_env_fallback_and_default(monkeypatch):
    monkeypatch.delenv("JWT_SECRET_FILE", raising=False)
    monkeypatch.setenv("JWT_SECRET", "dev-value")
    assert read_secret("JWT_SECRET") == "dev-value"
    monkeypatch.delenv("JWT_SECRET")
    assert read_secret("JWT_SECRET", "dflt") == "dflt"


def test_unreadable_secret_file_fails_fast(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError):
        Settings.from_env()


def test_secret_values_are_never_logged(tmp_path, monkeypatch, capsys):
    for name, value in {"SECRET_KEY": "sk-TOPSECRET1", "OPENAI_API_KEY": "sk-TOPSECRET2"}.items():
        f = tmp_path / name
        f.write_text(value)
        monkeypatch.setenv(f"{name}_FILE", str(f))
    app = create_app()
    assert app.secret_key == "sk-TOPSECRET1"
    health = app.test_client().get("/health").get_json()
    assert health["providers"] == {"openai": True, "anthropic": False}
    out = capsys.readouterr()
    assert "TOPSECRET" not in out.out + out.err
    assert "TOPSECRET" not in str(health)


def test_random_dev_secret_key_with_warning(monkeypatch, capsys):
    monkeypatch.delenv("SECRET_KEY_FILE", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    a, b = Settings.from_env(), Settings.from_env()
    assert len(a.secret_key) == 64 and a.secret_key != b.secret_key
    assert "SECRET_KEY_FILE not set" in capsys.readouterr().out


def test_env_settings(monkeypatch):
    monkeypatch.setenv("MAX_CONCURRENT_REQUESTS", "4")
    monkeypatch.setenv("MAX_BODY_BYTES", "1234")
    monkeypatch.setenv("REQUEST_TIMEOUT_SECONDS", "9")
    monkeypatch.setenv("APP_VERSION", "9.9.9-test")
    s = Settings.from_env()
    assert (s.max_concurrent_requests, s.max_body_bytes, s.request_timeout_seconds, s.version) == (4, 1234, 9, "9.9.9-test")
    assert s.test_delay_seconds == 0.0
    monkeypatch.setenv("MAX_CONCURRENT_REQUESTS", "0")
    with pytest.raises(ConfigError):
        Settings.from_env()


EXPECTED_FAMILIES = {
    "clinical_bdd_http_requests_total",
    "clinical_bdd_http_request_duration_seconds",
    "clinical_bdd_http_requests_in_flight",
    "clinical_bdd_max_concurrent_requests",
    "clinical_bdd_scenarios_generated_total",
    "clinical_bdd_generation_duration_seconds",
    "clinical_bdd_rejected_requests_total",
    "clinical_bdd_build_info",
}


def test_metric_names_command_lists_exposed_names(client):
    import os

    env = dict(os.environ, PROMETHEUS_MULTIPROC_DIR="/nonexistent/prom")  # must not matter
    out = subprocess.run(
        [sys.executable, "-m", "clinical_bdd.metric_names"], cwd=APP_DIR, env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 0, out.stderr
    names = out.stdout.split()
    assert len(names) == len(set(names))
    assert all(n.startswith("clinical_bdd_") for n in names)
    assert EXPECTED_FAMILIES <= set(names)
    for hist in ("clinical_bdd_http_request_duration_seconds", "clinical_bdd_generation_duration_seconds"):
        assert {hist + "_bucket", hist + "_count", hist + "_sum"} <= set(names)
    # every printed name is really exposed on /metrics once each metric has a sample
    client.post("/api/v1/analyze", json={"content": "Metformin is recommended for adults. A"})
    client.post("/api/v1/analyze", data="x", content_type="text/plain")
    metrics_text = client.get("/metrics").get_data(as_text=True)
    exposed = {line.split("{")[0].split(" ")[0] for line in metrics_text.splitlines() if line and not line.startswith("#")}
    exposed |= {line.split()[2] for line in metrics_text.splitlines() if line.startswith("# TYPE")}
    assert set(names) <= exposed
    assert {n for n in exposed if n.startswith("clinical_bdd_")} <= set(names)
