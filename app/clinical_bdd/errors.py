"""JSON errors: every error is {error, message, request_id}; never HTML or a traceback."""
from __future__ import annotations

import logging

from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger("clinical_bdd.errors")


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, headers: dict | None = None, **extra):
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.headers = headers or {}
        self.extra = extra


def error_response(status: int, error: str, message: str, headers: dict | None = None, **extra):
    body = {"error": error, "message": message, "request_id": getattr(g, "request_id", None)}
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


_HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    500: "internal_error",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError):
        return error_response(exc.status, exc.error, exc.message, exc.headers, **exc.extra)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = exc.description or exc.name
        if status == 413:
            from . import metrics

            metrics.REJECTED.labels(reason="body_too_large").inc()
            message = "request body exceeds the configured maximum size"
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(sorted(exc.valid_methods))
        return error_response(status, code, message, headers)

    from .gherkin_writer import InvalidGherkin

    @app.errorhandler(InvalidGherkin)
    def _invalid_gherkin(exc: InvalidGherkin):
        # a generator bug: never return an invalid feature; the message may quote input, so it is not logged
        log.error("generated feature failed Gherkin validation", extra={"request_id": getattr(g, "request_id", None)})
        return error_response(500, "generation_failed", "the generated feature failed Gherkin validation")

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception):
        log.error("unhandled exception", exc_info=exc, extra={"request_id": getattr(g, "request_id", None)})
        return error_response(500, "internal_error", "an internal error occurred")
