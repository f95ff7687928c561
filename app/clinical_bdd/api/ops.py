from __future__ import annotations

import os

from flask import Blueprint, Response, current_app, jsonify

from .. import metrics
from ..service import health_check

bp = Blueprint("ops", __name__)


@bp.get("/health")
def health():
    settings = current_app.extensions["clinical_bdd.settings"]
    generator = health_check()
    mp_dir = metrics.multiprocess_dir()
    metrics_ok = mp_dir is None or (os.path.isdir(mp_dir) and os.access(mp_dir, os.W_OK))
    metrics_check = {"status": "pass" if metrics_ok else "fail", "multiprocess": mp_dir is not None}
    ok = generator["status"] == "pass" and metrics_ok
    body = {
        "status": "ok" if ok else "fail",
        "version": settings.version,
        "checks": {
            "generator": generator,
            "metrics": metrics_check,
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
