"""OpenAPI 3 document of every endpoint (a test checks it against the url_map)."""
from __future__ import annotations

from . import SERVICE_NAME


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _pdf_request_content() -> dict:
    """PDF input: the body itself, or a multipart upload (field "file")."""
    pdf = {"schema": {"type": "string", "format": "binary"}}
    form = {
        "schema": {
            "type": "object",
            "required": ["file"],
            "properties": {
                "file": {"type": "string", "format": "binary", "description": "The guideline as a PDF"},
                "specialty": {"type": "string", "maxLength": 64},
                "title": {"type": "string", "maxLength": 200},
            },
        }
    }
    return {"application/pdf": pdf, "multipart/form-data": form}


def build_openapi(version: str) -> dict:
    errors = {
        "400": _error(
            "Malformed JSON, JSON nested deeper than 32 levels, a lone surrogate, or an invalid/missing field "
            "(e.g. 'content', or null for 'title')"
        ),
        "413": _error("Body larger than MAX_BODY_BYTES"),
        "415": _error("Body is not JSON"),
        "503": _error("Concurrency limit reached; see Retry-After"),
        "500": _error("The analysis process ended without an answer, or the generated feature failed validation"),
        "504": _error("Analysis exceeded the request timeout (REQUEST_TIMEOUT_SECONDS); the work is stopped"),
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": SERVICE_NAME,
            "version": version,
            "description": "Turns clinical guideline prose into executable Gherkin features.",
        },
        "paths": {
            "/": {
                "get": {
                    "operationId": "index",
                    "summary": "Service name, version and links",
                    "responses": {"200": {"description": "Service information", "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Health with a generator self-check",
                    "responses": {
                        "200": {"description": "Healthy", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                        "503": {"description": "Unhealthy", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                    },
                }
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "summary": "Prometheus metrics (text exposition format)",
                    "responses": {"200": {"description": "Metrics", "content": {"text/plain": {"schema": {"type": "string"}}}}},
                }
            },
            "/api/v1/analyze": {
                "post": {
                    "operationId": "analyze",
                    "summary": "Extract recommendations and generate a Gherkin feature",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/AnalyzeRequest"}},
                            **_pdf_request_content(),
                        },
                        "description": "Guideline text as JSON, or a PDF whose text is extracted with layout analysis "
                        "(columns, running headers and footers, hyphenation, ligatures); the response then adds "
                        "source_text, the extracted text that the spans point into",
                    },
                    "responses": {
                        "200": {
                            "description": "Recommendations and feature; send Accept: text/x-gherkin for the plain .feature body",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/AnalyzeResponse"}},
                                "text/x-gherkin": {"schema": {"type": "string"}},
                            },
                        },
                        **errors,
                    },
                }
            },
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}},
                }
            },
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "message", "request_id"],
                    "properties": {
                        "error": {"type": "string"},
                        "message": {"type": "string"},
                        "request_id": {"type": "string"},
                        "field": {"type": "string"},
                    },
                },
                "AnalyzeRequest": {
                    "type": "object",
                    "required": ["content"],
                    "properties": {
                        "content": {
                            "type": "string",
                            "minLength": 1,
                            "pattern": "\\S",
                            "description": "Guideline text: plain, Markdown, or as extracted from a PDF (running headers/footers, "
                            "line-end hyphenation, ligatures, letter-spaced runs and footnote markers are cleaned first). "
                            "Not only whitespace; a lone surrogate is refused (400); control characters (NUL, C0/C1 but tab, "
                            "newline, carriage return and form feed) and bidi embeddings, overrides and isolates are removed "
                            "and a warning says so",
                        },
                        "specialty": {"type": "string", "maxLength": 64, "description": "Omit it rather than send null (400)"},
                        "title": {"type": "string", "maxLength": 200, "description": "Omit it rather than send null (400)"},
                    },
                },
                "Threshold": {
                    "type": "object",
                    "properties": {
                        "measure": {"type": "string"},
                        "column": {"type": "string"},
                        "comparator": {"type": "string", "enum": [">=", ">", "<=", "<", "between"]},
                        "value": {"type": "string"},
                        "unit": {"type": "string"},
                        "kind": {
                            "type": "string",
                            "enum": ["condition", "target", "caveat"],
                            "description": "condition: who the recommendation applies to; target: a goal; "
                            "caveat: a cut-off that qualifies the action (\"reduce the dose at eGFR <45\"), not in the Examples",
                        },
                        "alternates": {
                            "type": "array",
                            "description": "The same cut-off in another unit, as the text gives it (\"A1C >10% [>86 mmol/mol]\")",
                            "items": {"type": "object", "properties": {"value": {"type": "string"}, "unit": {"type": "string"}}},
                        },
                        "excludes": {
                            "type": "boolean",
                            "description": "An exclusion's cut-off (\"except in people with LDL-C >4.9 mmol/L\", "
                            "\"unless eGFR <30\"): the recommendation does not apply where it is met",
                        },
                        "alternative": {
                            "type": "string",
                            "nullable": True,
                            "description": "The alternative qualifying criterion (\"a\", \"b\" …) it belongs to; "
                            "null when it holds for every alternative",
                        },
                        "raw": {"type": "string"},
                        "span": {"$ref": "#/components/schemas/Span"},
                    },
                },
                "Span": {
                    "type": "object",
                    "description": "Character offsets into the request's content as sent (before cleaning)",
                    "properties": {"start": {"type": "integer"}, "end": {"type": "integer"}},
                },
                "Recommendation": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "text": {"type": "string"},
                        "section": {"type": "string", "nullable": True},
                        "strength": {"type": "string", "nullable": True},
                        "class_of_recommendation": {"type": "string", "nullable": True},
                        "level_of_evidence": {"type": "string", "nullable": True},
                        "grade": {
                            "type": "string",
                            "nullable": True,
                            "description": "Evidence grade as the guideline states it: ADA A/B/C/E, USPSTF A/B/C/D/I, KDIGO 1A-2D",
                        },
                        "population": {"type": "string", "nullable": True},
                        "conditions": {"type": "array", "items": {"type": "string"}},
                        "excluded_conditions": {"type": "array", "items": {"type": "string"}},
                        "criteria": {"type": "array", "items": {"type": "string"}},
                        "action": {"type": "string"},
                        "negated": {"type": "boolean"},
                        "insufficient_evidence": {
                            "type": "boolean",
                            "description": "True when the guideline finds the evidence insufficient to recommend for or against "
                            "(USPSTF I statement, 'no recommendation'); the scenario is tagged @insufficient-evidence and its "
                            "Then says the CDS system makes no recommendation. negated is then false",
                        },
                        "polarity": {
                            "type": "string",
                            "enum": ["recommend", "do_not_recommend", "insufficient_evidence"],
                        },
                        "thresholds": {"type": "array", "items": {"$ref": "#/components/schemas/Threshold"}},
                        "caveats": {
                            "type": "array",
                            "description": "Cut-offs that qualify the action but do not decide who it applies to (kind caveat)",
                            "items": {"$ref": "#/components/schemas/Threshold"},
                        },
                        "threshold_logic": {"type": "string", "enum": ["all", "any"]},
                        "alternatives": {
                            "type": "array",
                            "description": "Alternative qualifying criteria (\"for any of: a) … b) …\"), an OR of ANDs: "
                            "one scenario per alternative, each threshold's alternative says which it belongs to",
                            "items": {"type": "string"},
                        },
                        "span": {"$ref": "#/components/schemas/Span"},
                        "source_id": {
                            "type": "string",
                            "nullable": True,
                            "description": "The guideline's own number of a formal recommendation (\"9.2\", \"9.16a\", \"1.3.1\", "
                            "\"PP 1.3.2\" for a practice point); null for unnumbered and narrative statements. "
                            "Tag @rec-<source_id> in the feature",
                        },
                        "narrative": {
                            "type": "boolean",
                            "description": "True for a statement outside the guideline's formal recommendations (tag @narrative); "
                            "false for every statement of a document that has no formal recommendations",
                        },
                    },
                },
                "AnalyzeResponse": {
                    "type": "object",
                    "properties": {
                        "request_id": {"type": "string"},
                        "version": {"type": "string"},
                        "title": {"type": "string", "nullable": True},
                        "specialty": {"type": "string"},
                        "recommendation_count": {"type": "integer"},
                        "scenario_count": {"type": "integer"},
                        "recommendations": {"type": "array", "items": {"$ref": "#/components/schemas/Recommendation"}},
                        "feature": {"type": "string"},
                        "warnings": {"type": "array", "items": {"type": "string"}},
                        "generation_ms": {"type": "number"},
                        "source_text": {
                            "type": "string",
                            "description": "PDF input only: the text extracted from the PDF; spans are offsets into it",
                        },
                        "source_format": {"type": "string", "enum": ["pdf"], "description": "PDF input only"},
                    },
                },
                "Health": {
                    "type": "object",
                    "properties": {
                        "status": {"type": "string", "enum": ["ok", "fail"]},
                        "version": {"type": "string"},
                        "checks": {"type": "object"},
                        "providers": {"type": "object", "additionalProperties": {"type": "boolean"}},
                    },
                },
            }
        },
    }
