from __future__ import annotations

import json
import time

from flask import Blueprint, Response, current_app, g, jsonify, request

from .. import metrics
from ..errors import ApiError
from ..openapi import build_openapi
from ..pdf_text import InvalidPdf, pdf_to_text
from ..service import GenerationTimeout, analyze

bp = Blueprint("v1", __name__, url_prefix="/api/v1")

GHERKIN_MIME = "text/x-gherkin"
PDF_MIME = "application/pdf"
MAX_TITLE = 200
MAX_SPECIALTY = 64


def _invalid(message: str, field: str | None = None) -> ApiError:
    metrics.REJECTED.labels(reason="invalid").inc()
    extra = {"field": field} if field else {}
    return ApiError(400, "invalid_request", message, **extra)


def _read_payload() -> dict:
    if not request.is_json:
        metrics.REJECTED.labels(reason="unsupported_media_type").inc()
        raise ApiError(415, "unsupported_media_type", "the request body must be JSON (Content-Type: application/json)")
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise _invalid("the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise _invalid("the request body must be a JSON object")
    return payload


def _optional_string(payload: dict, name: str, limit: int) -> str | None:
    value = payload.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _invalid(f"'{name}' must be a string", name)
    if len(value) > limit:
        raise _invalid(f"'{name}' must be at most {limit} characters", name)
    return value.strip() or None


def _sleep_for_tests(seconds: float, deadline: float) -> None:
    """Test-only delay (CLINICAL_BDD_TEST_ANALYZE_DELAY_SECONDS, off by default)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if time.monotonic() > deadline:
            raise GenerationTimeout()
        time.sleep(0.05)


@bp.post("/analyze")
def analyze_guideline():
    settings = current_app.extensions["clinical_bdd.settings"]
    deadline = time.monotonic() + settings.request_timeout_seconds
    if _is_pdf_request():
        return _analyze_pdf(deadline)
    payload = _read_payload()
    content = payload.get("content")
    if content is None:
        raise _invalid("missing required field 'content'", "content")
    if not isinstance(content, str):
        raise _invalid("field 'content' must be a string", "content")
    if not content.strip():
        raise _invalid("field 'content' must not be empty", "content")
    specialty = _optional_string(payload, "specialty", MAX_SPECIALTY)
    title = _optional_string(payload, "title", MAX_TITLE)
    return _run_and_respond(content, specialty, title, deadline)


def _run_and_respond(content: str, specialty: str | None, title: str | None, deadline: float, **extra) -> Response:
    settings = current_app.extensions["clinical_bdd.settings"]
    try:
        if settings.test_delay_seconds > 0:
            _sleep_for_tests(settings.test_delay_seconds, deadline)
        result = analyze(content, specialty=specialty, title=title, deadline=deadline)
    except GenerationTimeout:
        metrics.REJECTED.labels(reason="timeout").inc()
        raise ApiError(504, "timeout", "analysis exceeded the request timeout") from None

    best = request.accept_mimetypes.best_match(["application/json", GHERKIN_MIME])
    if best == GHERKIN_MIME:
        return Response(result["feature"], status=200, content_type=f"{GHERKIN_MIME}; charset=utf-8")
    result = {"request_id": g.request_id, "version": settings.version, **result, **extra}
    return jsonify(result)


# --------------------------------------------------------------------------
# PDF input: the body itself (application/pdf) or a multipart upload


def _is_pdf_request() -> bool:
    return request.mimetype in (PDF_MIME, "multipart/form-data")


def _analyze_pdf(deadline: float) -> Response:
    """Text by layout analysis (pdf_text.py), then the same analysis; the
    response adds ``source_text``, the text the spans point into."""
    if request.mimetype == PDF_MIME:
        data, fields = request.get_data(cache=False), {}
    else:
        upload = request.files.get("file")
        if upload is None:
            raise _invalid("missing file field 'file' (a PDF)", "file")
        data, fields = upload.read(), request.form
    try:
        content = pdf_to_text(data)
    except InvalidPdf as exc:
        raise _invalid(str(exc), "file") from None
    specialty = _optional_string(fields, "specialty", MAX_SPECIALTY)
    title = _optional_string(fields, "title", MAX_TITLE)
    return _run_and_respond(content, specialty, title, deadline, source_text=content, source_format="pdf")


@bp.get("/openapi.json")
def openapi():
    settings = current_app.extensions["clinical_bdd.settings"]
    return jsonify(build_openapi(settings.version))
