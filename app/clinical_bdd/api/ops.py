from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from .. import metrics
from ..service import health_check

bp = Blueprint("ops", __name__)


@bp.get("/health")
def health():
    settings = current_app.extensions["clinical_bdd.settings"]
    generator = health_check()
    ok = generator["status"] == "pass"
    body = {
        "status": "ok" if ok else "fail",
        "version": settings.version,
        "checks": {
            "generator": generator,
            "concurrency_limiter": {
                "status": "pass",
                "mode": current_app.extensions["clinical_bdd.limiter"].mode,
                "max_concurrent_requests": settings.max_concurrent_requests,
            },
        },
        # booleans only: never the secrets themselves
        "providers": dict(settings.providers),
    }
    response = jsonify(body)
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/metrics")
def scrape():
    body, content_type = metrics.render()
    return Response(body, status=200, content_type=content_type)
