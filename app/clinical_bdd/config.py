"""Configuration from the environment contract with the platform.

Every setting has a default so the service runs locally without any
environment; the Pulumi program sets the same names in production.
Secrets are read from files (NAME_FILE) and never from env values in
production; NAME as a plain env variable is accepted for local development.
"""
from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field

from . import __version__

log = logging.getLogger("clinical_bdd.config")

DEFAULT_PORT = 3000
DEFAULT_WORKERS = 2
DEFAULT_MAX_CONCURRENT_REQUESTS = 10
DEFAULT_REQUEST_TIMEOUT_SECONDS = 300
DEFAULT_GRACEFUL_TIMEOUT_SECONDS = 30
DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024
DEFAULT_LOG_LEVEL = "info"

# Test-only hook: when this env variable holds a positive number, every analyze
# request sleeps that long (cooperatively, honouring the request deadline).
# Production never sets it; nothing in a request can enable it.
TEST_DELAY_ENV = "CLINICAL_BDD_TEST_ANALYZE_DELAY_SECONDS"


class ConfigError(RuntimeError):
    pass


def env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer") from exc
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number") from exc


def read_secret(name: str, default: str | None = None) -> str | None:
    """Return the secret NAME.

    NAME_FILE (a path, as mounted by the platform) wins; else the NAME env
    variable (local development only); else ``default``. A NAME_FILE that is set
    but unreadable is a startup error. The value is never logged.
    """
    path = os.environ.get(f"{name}_FILE", "").strip()
    if path:
        try:
            with open(path, encoding="utf-8") as fh:
                value = fh.read().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read secret file given by {name}_FILE") from exc
        if not value:
            raise ConfigError(f"secret file given by {name}_FILE is empty")
        return value
    value = os.environ.get(name)
    if value:
        return value.strip()
    return default


@dataclass
class Settings:
    version: str = __version__
    max_concurrent_requests: int = DEFAULT_MAX_CONCURRENT_REQUESTS
    request_timeout_seconds: float = DEFAULT_REQUEST_TIMEOUT_SECONDS
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    log_level: str = DEFAULT_LOG_LEVEL
    test_delay_seconds: float = 0.0
    # "subprocess": analysis in worker-owned child processes (isolation.py); "inline": in the request thread
    analysis_isolation: str = "subprocess"
    secret_key: str = ""
    jwt_secret: str | None = None
    encryption_key: str | None = None
    providers: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> "Settings":
        secret_key = read_secret("SECRET_KEY")
        if not secret_key:
            log.warning("SECRET_KEY_FILE not set; using a random development secret key")
            secret_key = secrets.token_hex(32)
        jwt_secret = read_secret("JWT_SECRET")
        encryption_key = read_secret("ENCRYPTION_KEY")
        for name, value in (("JWT_SECRET", jwt_secret), ("ENCRYPTION_KEY", encryption_key)):
            if not value:
                log.warning("%s_FILE not set; features needing it are unavailable", name)
        providers = {
            "openai": bool(read_secret("OPENAI_API_KEY")),
            "anthropic": bool(read_secret("ANTHROPIC_API_KEY")),
        }
        return cls(
            version=os.environ.get("APP_VERSION", "").strip() or __version__,
            max_concurrent_requests=env_int(
                "MAX_CONCURRENT_REQUESTS", DEFAULT_MAX_CONCURRENT_REQUESTS, minimum=1
            ),
            request_timeout_seconds=env_int(
                "REQUEST_TIMEOUT_SECONDS", DEFAULT_REQUEST_TIMEOUT_SECONDS, minimum=1
            ),
            max_body_bytes=env_int("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1),
            log_level=os.environ.get("LOG_LEVEL", DEFAULT_LOG_LEVEL).strip() or DEFAULT_LOG_LEVEL,
            test_delay_seconds=max(0.0, env_float(TEST_DELAY_ENV, 0.0)),
            analysis_isolation="inline" if os.environ.get("ANALYSIS_ISOLATION", "").strip().lower() == "inline" else "subprocess",
            secret_key=secret_key,
            jwt_secret=jwt_secret,
            encryption_key=encryption_key,
            providers=providers,
        )
