"""Application factory (see clinical_bdd.create_app)."""
from __future__ import annotations

import logging
import os

from flask import Flask

from . import metrics
from .api import ops, root, v1
from .config import Settings
from .errors import register_error_handlers
from .limits import SLOT_DIR_ENV, ConcurrencyLimiter
from .logging_setup import configure_logging
from . import middleware

log = logging.getLogger("clinical_bdd")


def build_app(config: dict | None = None) -> Flask:
    """Build the Flask app. ``config`` overrides Settings fields (tests) and
    Flask config keys (upper-case)."""
    config = dict(config or {})
    configure_logging(os.environ.get("LOG_LEVEL", "info"))
    settings = Settings.from_env()
    for key in list(config):
        if hasattr(settings, key):
            setattr(settings, key, config.pop(key))

    configure_logging(settings.log_level)
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        JSON_SORT_KEYS=True,
    )
    app.config.update(config)
    app.json.sort_keys = True

    slot_dir = config.get("SLOT_DIR", os.environ.get(SLOT_DIR_ENV) or None)
    app.extensions["clinical_bdd.settings"] = settings
    app.extensions["clinical_bdd.limiter"] = ConcurrencyLimiter(settings.max_concurrent_requests, slot_dir)

    metrics.init_static(settings.version, settings.max_concurrent_requests)
    middleware.install(app)
    register_error_handlers(app)
    app.register_blueprint(root.bp)
    app.register_blueprint(ops.bp)
    app.register_blueprint(v1.bp)
    if settings.test_delay_seconds > 0:
        log.warning("test-only analyze delay is enabled", extra={"delay_seconds": settings.test_delay_seconds})
    log.info(
        "application created",
        extra={
            "version": settings.version,
            "max_concurrent_requests": settings.max_concurrent_requests,
            "limiter": app.extensions["clinical_bdd.limiter"].mode,
            "pid": os.getpid(),
        },
    )
    return app
