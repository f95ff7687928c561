from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from .. import SERVICE_NAME

bp = Blueprint("root", __name__)


@bp.get("/")
def index():
    settings = current_app.extensions["clinical_bdd.settings"]
    return jsonify(
        name=SERVICE_NAME,
        version=settings.version,
        links={
            "self": "/",
            "analyze": "/api/v1/analyze",
            "openapi": "/api/v1/openapi.json",
            "health": "/health",
            "metrics": "/metrics",
        },
    )
