"""Per-request plumbing: request id, access log, metrics, body limit, concurrency limit."""
from __future__ import annotations

import logging
import os
import re
import time
import uuid

from flask import Flask, abort, current_app, g, request

from . import metrics
from .errors import error_response

access_log = logging.getLogger("clinical_bdd.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
# Probes and scrapes must keep working when the replica is saturated.
UNLIMITED_ENDPOINTS = {"ops.health", "ops.metrics", "root.index"}


def _endpoint_label() -> str:
    rule = request.url_rule
    return rule.rule if rule is not None else "unmatched"


def install(app: Flask) -> None:
    @app.before_request
    def _start():
        g.start = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        metrics.IN_FLIGHT.inc()
        g.in_flight = True

        length = request.content_length
        if length is not None and length > current_app.config["MAX_CONTENT_LENGTH"]:
            abort(413)

        if request.endpoint not in UNLIMITED_ENDPOINTS and request.url_rule is not None:
            slot = current_app.extensions["clinical_bdd.limiter"].try_acquire()
            if slot is None:
                metrics.REJECTED.labels(reason="concurrency_limit").inc()
                return error_response(
                    503,
                    "concurrency_limit",
                    "the replica is at its concurrent request limit; retry later",
                    {"Retry-After": "1"},
                )
            g.slot = slot

    @app.after_request
    def _finish(response):
        duration = time.perf_counter() - g.get("start", time.perf_counter())
        endpoint = _endpoint_label()
        method = request.method
        metrics.HTTP_REQUESTS.labels(endpoint=endpoint, method=method, status=str(response.status_code)).inc()
        metrics.HTTP_DURATION.labels(endpoint=endpoint, method=method).observe(duration)
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-ID"] = request_id
        # Path only (no query string) and never the body: guideline text may hold patient data.
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": method,
                "path": request.path,
                "endpoint": endpoint,
                "status": response.status_code,
                "duration_ms": round(duration * 1000, 3),
                "response_bytes": response.calculate_content_length(),
                "pid": os.getpid(),
            },
        )
        return response

    @app.teardown_request
    def _teardown(_exc):
        slot = g.pop("slot", None)
        if slot is not None:
            slot.release()
        if g.pop("in_flight", False):
            metrics.IN_FLIGHT.dec()
