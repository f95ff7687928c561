"""Clinical BDD Creator: clinical guideline prose in, executable Gherkin out."""
from __future__ import annotations

__version__ = "1.0.0"
SERVICE_NAME = "clinical-bdd-creator"


def create_app(config: dict | None = None):
    """Flask application factory (heavy imports are deferred so that
    gunicorn.conf.py can import small helpers from this package in the master
    process without creating metric files there)."""
    from .app_factory import build_app

    return build_app(config)
