from __future__ import annotations

import json
import re
import time

from flask import Blueprint, Response, current_app, g, jsonify, request

from .. import metrics
from .. import isolation
from ..errors import ApiError
from ..openapi import build_openapi
from ..pdf_text import InvalidPdf
from ..service import GenerationTimeout, record_metrics

bp = Blueprint("v1", __name__, url_prefix="/api/v1")

GHERKIN_MIME = "text/x-gherkin"
PDF_MIME = "application/pdf"
MAX_TITLE = 200
MAX_SPECIALTY = 64
# The request is one flat object of strings; anything nested this deep is refused
# before the JSON parser (whose recursion would otherwise end in RecursionError).
MAX_JSON_DEPTH = 32
# a JSON string (to its end even when unterminated) or one bracket: one linear pass
_JSON_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*(?:"|\\?\Z)|[\[\]{}]')


def _invalid(message: str, field: str | None = None) -> ApiError:
    metrics.REJECTED.labels(reason="invalid").inc()
    extra = {"field": field} if field else {}
    return ApiError(400, "invalid_request", message, **extra)


def _read_payload() -> dict:
    if not request.is_json:
        metrics.REJECTED.labels(reason="unsupported_media_type").inc()
        raise ApiError(415, "unsupported_media_type", "the request body must be JSON (Content-Type: application/json)")
    raw = request.get_data(cache=False)  # raises 413 past MAX_CONTENT_LENGTH
    if _json_depth(raw) > MAX_JSON_DEPTH:
        raise _invalid(f"the request body nests arrays/objects deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(raw)
    except RecursionError:
        raise _invalid(f"the request body nests arrays/objects deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError):
        raise _invalid("the request body is not valid JSON") from None
    if not isinstance(payload, dict):
        raise _invalid("the request body must be a JSON object")
    return payload


def _json_depth(raw: bytes) -> int:
    """Deepest nesting of arrays and objects, strings skipped; linear in the body."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return 0
    depth = deepest = 0
    for m in _JSON_TOKEN.finditer(raw):
        ch = m.group()
        if ch in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    break
        elif ch in (b"]", b"}"):
            depth -= 1
    return deepest


def _unicode_text(value: str, name: str) -> str:
    """A lone surrogate ("\\ud800") is valid JSON but not text: refused."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise _invalid(
            f"field '{name}' holds a lone surrogate (U+{ord(exc.object[exc.start]):04X}) at character {exc.start}: "
            "not valid Unicode text",
            name,
        ) from None
    return value


def _optional_string(payload, name: str, limit: int) -> str | None:
    if name not in payload:
        return None
    value = payload.get(name)
    if not isinstance(value, str):
        raise _invalid(f"'{name}' must be a string", name)
    if len(value) > limit:
        raise _invalid(f"'{name}' must be at most {limit} characters", name)
    return _unicode_text(value, name).strip() or None


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
    _unicode_text(content, "content")
    specialty = _optional_string(payload, "specialty", MAX_SPECIALTY)
    title = _optional_string(payload, "title", MAX_TITLE)
    return _run_and_respond(content, specialty, title, deadline)


def _run_and_respond(content: str, specialty: str | None, title: str | None, deadline: float, **extra) -> Response:
    settings = current_app.extensions["clinical_bdd.settings"]
    try:
        if settings.test_delay_seconds > 0:
            _sleep_for_tests(settings.test_delay_seconds, deadline)
        result = _isolated(settings, "analyze", (content, specialty, title), deadline)
    except GenerationTimeout:
        raise _timeout() from None

    best = request.accept_mimetypes.best_match(["application/json", GHERKIN_MIME])
    if best == GHERKIN_MIME:
        return Response(result["feature"], status=200, content_type=f"{GHERKIN_MIME}; charset=utf-8")
    result = {"request_id": g.request_id, "version": settings.version, **result, **extra}
    return jsonify(result)


def _timeout() -> ApiError:
    metrics.REJECTED.labels(reason="timeout").inc()
    return ApiError(504, "timeout", "analysis exceeded the request timeout")


def _isolated(settings, task: str, args: tuple, deadline: float):
    """One task in this worker's analysis child (inline in the in-process tests)."""
    try:
        result = isolation.run(task, args, deadline, mode=settings.analysis_isolation)
    except isolation.AnalysisCrashed:
        raise ApiError(500, "analysis_failed", "the analysis process ended without an answer") from None
    if task == "analyze":
        record_metrics(result)
    return result


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
    settings = current_app.extensions["clinical_bdd.settings"]
    try:
        content = _isolated(settings, "pdf_text", (data,), deadline)
    except InvalidPdf as exc:
        raise _invalid(str(exc), "file") from None
    except GenerationTimeout:
        raise _timeout() from None
    specialty = _optional_string(fields, "specialty", MAX_SPECIALTY)
    title = _optional_string(fields, "title", MAX_TITLE)
    return _run_and_respond(content, specialty, title, deadline, source_text=content, source_format="pdf")


@bp.get("/openapi.json")
def openapi():
    settings = current_app.extensions["clinical_bdd.settings"]
    return jsonify(build_openapi(settings.version))
