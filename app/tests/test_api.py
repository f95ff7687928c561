"""Endpoints and error handling, in process (app.test_client())."""
from __future__ import annotations

import json

import pytest

from clinical_bdd import __version__, create_app
from conftest import parse_feature

SAMPLE = (
    "In adults with type 2 diabetes and CKD, an SGLT2 inhibitor is recommended (Class I, LOE A).\n"
    "Aspirin should not be used for primary prevention in adults at low risk. B\n"
)


def assert_json_error(response, status: int, request_id: str | None = None):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= {"error", "message", "request_id"}
    assert body["request_id"]
    assert response.headers["X-Request-ID"] == body["request_id"]
    if request_id:
        assert body["request_id"] == request_id
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "<html" not in text.lower()
    return body


def test_index(client):
    r = client.get("/")
    assert r.status_code == 200
    body = r.get_json()
    assert body["name"] == "clinical-bdd-creator"
    assert body["version"] == __version__
    assert body["links"]["analyze"] == "/api/v1/analyze"
    assert body["links"]["health"] == "/health"


def test_health_runs_generator(client):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.get_json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert body["checks"]["generator"]["status"] == "pass"
    assert body["checks"]["metrics"]["status"] == "pass"
    assert body["providers"] == {"openai": False, "anthropic": False}


def test_health_503_when_generator_fails(client, monkeypatch):
    import clinical_bdd.api.ops as ops

    monkeypatch.setattr(ops, "health_check", lambda: {"status": "fail", "detail": "boom"})
    r = client.get("/health")
    assert r.status_code == 503
    assert r.get_json()["status"] == "fail"


def test_metrics_endpoint_in_process(client):
    client.post("/api/v1/analyze", json={"content": SAMPLE})
    r = client.get("/metrics")
    assert r.status_code == 200
    assert r.mimetype == "text/plain"
    text = r.get_data(as_text=True)
    for name in (
        "clinical_bdd_http_requests_total",
        "clinical_bdd_http_request_duration_seconds_bucket",
        "clinical_bdd_http_requests_in_flight",
        "clinical_bdd_max_concurrent_requests",
        "clinical_bdd_scenarios_generated_total",
        "clinical_bdd_generation_duration_seconds_count",
        "clinical_bdd_build_info",
    ):
        assert name in text
    assert 'clinical_bdd_build_info{version="%s"} 1.0' % __version__ in text


def test_analyze_json(client):
    r = client.post("/api/v1/analyze", json={"content": SAMPLE, "specialty": "Nephrology", "title": "CKD"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["recommendation_count"] == 2
    assert body["scenario_count"] == 2
    assert body["specialty"] == "nephrology"
    assert body["request_id"] == r.headers["X-Request-ID"]
    rec = body["recommendations"][0]
    assert rec["id"] == "REC-001"
    assert rec["class_of_recommendation"] == "I" and rec["level_of_evidence"] == "A"
    assert rec["population"] == "adults"
    assert rec["conditions"] == ["type 2 diabetes", "CKD"]
    start, end = rec["span"]["start"], rec["span"]["end"]
    assert SAMPLE[start:end].startswith("In adults with type 2 diabetes")
    assert body["recommendations"][1]["negated"] is True
    assert body["recommendations"][1]["grade"] == "B"
    doc = parse_feature(body["feature"])
    assert doc["feature"]["name"] == "CKD"
    assert "@specialty-nephrology" in body["feature"]


def test_analyze_gherkin_accept(client):
    r = client.post("/api/v1/analyze", json={"content": SAMPLE}, headers={"Accept": "text/x-gherkin"})
    assert r.status_code == 200
    assert r.mimetype == "text/x-gherkin"
    text = r.get_data(as_text=True)
    assert text.startswith("@clinical-bdd")
    doc = parse_feature(text)
    assert len(doc["feature"]["children"]) == 2


def test_analyze_default_accept_is_json(client):
    r = client.post("/api/v1/analyze", json={"content": SAMPLE}, headers={"Accept": "*/*"})
    assert r.mimetype == "application/json"


def test_analyze_no_recommendations_is_valid_empty_feature(client):
    r = client.post("/api/v1/analyze", json={"content": "Diabetes is common. It affects many people."})
    assert r.status_code == 200
    body = r.get_json()
    assert body["recommendation_count"] == 0
    assert body["warnings"]
    parse_feature(body["feature"])


def test_openapi_matches_url_map(app, client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    routed = set()
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routed.add((rule.rule, method))
    assert documented == routed
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert "200" in op["responses"]


# ---------------------------------------------------------------- errors


def test_request_id_is_honoured(client):
    r = client.get("/", headers={"X-Request-ID": "abc-123.XYZ"})
    assert r.headers["X-Request-ID"] == "abc-123.XYZ"


def test_unsafe_request_id_is_replaced(client):
    r = client.get("/", headers={"X-Request-ID": "bad id\u2028{json}"})
    assert r.headers["X-Request-ID"] != "bad id\u2028{json}"
    assert len(r.headers["X-Request-ID"]) == 32


def test_413_body_too_large():
    app = create_app({"max_body_bytes": 1000})
    r = app.test_client().post(
        "/api/v1/analyze",
        data=json.dumps({"content": "x" * 5000}),
        content_type="application/json",
        headers={"X-Request-ID": "big-1"},
    )
    body = assert_json_error(r, 413, "big-1")
    assert body["error"] == "payload_too_large"


def test_413_default_is_2mb(client):
    big = json.dumps({"content": "a" * (2 * 1024 * 1024)})
    r = client.post("/api/v1/analyze", data=big, content_type="application/json")
    assert_json_error(r, 413)


def test_415_not_json(client):
    r = client.post("/api/v1/analyze", data="In adults, X is recommended.", content_type="text/plain")
    body = assert_json_error(r, 415)
    assert body["error"] == "unsupported_media_type"


def test_400_malformed_json(client):
    r = client.post("/api/v1/analyze", data='{"content": "abc"', content_type="application/json")
    body = assert_json_error(r, 400)
    assert "JSON" in body["message"]


@pytest.mark.parametrize(
    "payload, fragment",
    [
        ({}, "missing"),
        ({"content": ""}, "empty"),
        ({"content": "   \n "}, "empty"),
        ({"content": 42}, "string"),
        ({"content": None}, "missing"),
    ],
)
def test_400_content_field(client, payload, fragment):
    r = client.post("/api/v1/analyze", json=payload)
    body = assert_json_error(r, 400)
    assert "content" in body["message"] and fragment in body["message"]
    assert body["field"] == "content"


def test_400_not_an_object(client):
    r = client.post("/api/v1/analyze", json=["content"])
    assert_json_error(r, 400)


def test_400_bad_optional_fields(client):
    r = client.post("/api/v1/analyze", json={"content": SAMPLE, "title": 5})
    body = assert_json_error(r, 400)
    assert body["field"] == "title"
    r = client.post("/api/v1/analyze", json={"content": SAMPLE, "specialty": "x" * 100})
    assert assert_json_error(r, 400)["field"] == "specialty"


def test_404_unknown_route(client):
    body = assert_json_error(client.get("/no/such/route"), 404)
    assert body["error"] == "not_found"


def test_405_wrong_method(client):
    r = client.get("/api/v1/analyze")
    body = assert_json_error(r, 405)
    assert body["error"] == "method_not_allowed"
    assert "POST" in r.headers["Allow"]
    assert_json_error(client.delete("/health"), 405)


def test_500_is_json_without_traceback():
    app = create_app({"TESTING": False})

    @app.get("/boom-test-only")
    def boom():
        raise RuntimeError("secret guideline text must not leak")

    r = app.test_client().get("/boom-test-only")
    body = assert_json_error(r, 500)
    assert "secret guideline text" not in r.get_data(as_text=True)
    assert body["error"] == "internal_error"


def test_invalid_generated_gherkin_is_a_json_500(monkeypatch):
    import clinical_bdd.service as service

    monkeypatch.setattr(service, "write_feature", lambda *a, **k: "not gherkin\nFeature: x\n")
    r = create_app().test_client().post("/api/v1/analyze", json={"content": SAMPLE})
    body = assert_json_error(r, 500)
    assert body["error"] == "generation_failed"


def test_concurrency_limit_in_process():
    """The in-process limiter rejects when every slot is taken."""
    app = create_app({"max_concurrent_requests": 1})
    limiter = app.extensions["clinical_bdd.limiter"]
    held = limiter.try_acquire()
    assert held is not None
    try:
        r = app.test_client().post("/api/v1/analyze", json={"content": SAMPLE})
        body = assert_json_error(r, 503)
        assert body["error"] == "concurrency_limit"
        assert r.headers["Retry-After"] == "1"
        # probes are not limited
        assert app.test_client().get("/health").status_code == 200
    finally:
        held.release()
    assert app.test_client().post("/api/v1/analyze", json={"content": SAMPLE}).status_code == 200


def test_request_timeout_returns_504():
    app = create_app({"request_timeout_seconds": 0.2, "test_delay_seconds": 5})
    import time

    started = time.monotonic()
    r = app.test_client().post("/api/v1/analyze", json={"content": SAMPLE})
    assert time.monotonic() - started < 2
    body = assert_json_error(r, 504)
    assert body["error"] == "timeout"


def test_logs_are_json_and_never_contain_content(app, capsys):
    marker = "ZZPATIENTMARKER"
    content = f"In adults with {marker} diabetes, metformin is recommended. A"
    r = app.test_client().post("/api/v1/analyze", json={"content": content}, headers={"X-Request-ID": "log-test-1"})
    assert r.status_code == 200
    out = capsys.readouterr().out
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    access = [rec for rec in lines if rec.get("request_id") == "log-test-1"]
    assert access, out
    rec = access[-1]
    assert rec["method"] == "POST" and rec["path"] == "/api/v1/analyze" and rec["status"] == 200
    assert isinstance(rec["duration_ms"], float)
    assert marker not in out
