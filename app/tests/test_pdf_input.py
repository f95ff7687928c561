"""POST /api/v1/analyze with a PDF (the body, or a multipart upload): text by
layout analysis, the same analysis, spans into the returned source_text."""
from __future__ import annotations

import io

import pytest

from conftest import parse_feature
from pdf_make import FOOTER, HEADER, guideline_pdf


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return guideline_pdf()


def _formal(body: dict) -> dict[str, dict]:
    return {r["source_id"]: r for r in body["recommendations"] if not r["narrative"]}


def _check(body: dict) -> None:
    recs = _formal(body)
    assert sorted(recs) == ["4.1", "4.2", "4.3", "4.4", "4.5"]
    assert [recs[k]["grade"] for k in sorted(recs)] == ["A", "B", "E", "A", "B"]
    assert recs["4.2"]["negated"] and not recs["4.1"]["negated"]  # "isnot recommended" in the PDF
    (a1c,) = recs["4.3"]["thresholds"]
    assert (a1c["measure"], a1c["comparator"], a1c["value"], a1c["alternates"]) == (
        "A1C", ">", "10", [{"value": "86", "unit": "mmol/mol"}]
    )
    assert [(t["measure"], t["comparator"], t["value"]) for t in recs["4.5"]["thresholds"]] == [
        ("age", ">=", "40"),
        ("blood pressure", ">=", "140/80"),  # "does not reduce … to below": applies at or above
    ]
    assert "recommended to reduce" in recs["4.4"]["text"]  # hyphenated across a line
    for furniture in (HEADER, FOOTER, "Neutral"):
        assert furniture not in body["feature"]
    source = body["source_text"]
    for rec in body["recommendations"]:
        span = source[rec["span"]["start"] : rec["span"]["end"]]
        assert span.split()[0] == rec["text"].split()[0]
    assert body["source_format"] == "pdf"
    parse_feature(body["feature"])


def test_pdf_body(client, pdf_bytes):
    r = client.post("/api/v1/analyze", data=pdf_bytes, content_type="application/pdf")
    assert r.status_code == 200, r.get_data(as_text=True)
    _check(r.get_json())


def test_multipart_upload_with_title(client, pdf_bytes):
    r = client.post(
        "/api/v1/analyze",
        data={"file": (io.BytesIO(pdf_bytes), "guideline.pdf"), "title": "Uploaded chapter"},
        content_type="multipart/form-data",
    )
    assert r.status_code == 200, r.get_data(as_text=True)
    body = r.get_json()
    assert body["title"] == "Uploaded chapter"
    _check(body)


def test_one_column_layout_reads_the_same(client):
    r = client.post("/api/v1/analyze", data=guideline_pdf(two_columns=False), content_type="application/pdf")
    assert sorted(_formal(r.get_json())) == ["4.1", "4.2", "4.3", "4.4", "4.5"]


def test_pdf_as_gherkin(client, pdf_bytes):
    r = client.post("/api/v1/analyze", data=pdf_bytes, content_type="application/pdf", headers={"Accept": "text/x-gherkin"})
    assert r.status_code == 200
    assert "@rec-4.2 @grade-B" in r.get_data(as_text=True)


@pytest.mark.parametrize("data", [b"not a pdf", b"%PDF-1.4\nbroken"])
def test_invalid_pdf_is_400(client, data):
    r = client.post("/api/v1/analyze", data=data, content_type="application/pdf")
    assert r.status_code == 400
    assert r.get_json()["error"] == "invalid_request"


def test_multipart_without_file_is_400(client):
    r = client.post("/api/v1/analyze", data={"title": "x"}, content_type="multipart/form-data")
    assert (r.status_code, r.get_json()["field"]) == (400, "file")


def test_openapi_documents_pdf_input(client):
    doc = client.get("/api/v1/openapi.json").get_json()
    content = doc["paths"]["/api/v1/analyze"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/pdf", "multipart/form-data"} <= set(content)
    props = doc["components"]["schemas"]["AnalyzeResponse"]["properties"]
    assert {"source_text", "source_format"} <= set(props)
