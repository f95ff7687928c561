"""PDF-extracted guideline fixtures (tests/guidelines/pdf/): loading, the
assembled ~165 KB chapter, and the quality score shared by the tests and
bench/quality.py."""
from __future__ import annotations

import json
import re
from pathlib import Path

from correctness import grade_ok as _grade_ok

PDF_DIR = Path(__file__).resolve().parent / "guidelines" / "pdf"
EXPECTED = json.loads((PDF_DIR / "expected.json").read_text(encoding="utf-8"))
CHAPTER_NAME = "assembled_ada_chapter (165 KB)"
CHAPTER_BYTES = 165 * 1024


def fixture_text(name: str) -> str:
    return (PDF_DIR / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------
# the assembled chapter: the ADA-style fixture three times with its statements
# renumbered (9.1 … 9.42), then its narrative paragraphs under further page
# headers until the chapter is ~165 KB, as a whole standards chapter is


def _rewrapped(text: str, width: int) -> str:
    """Each numbered statement's lines broken at another width, as another
    column of the chapter would break them (identical lines on 3+ pages are
    running headers to the clean stage)."""
    out, statement = [], []
    for line in text.split("\n"):
        if statement and not line.strip():  # a page break inside: left as it is
            out += statement
            statement = []
        if re.match(r"^9\.\d+[a-z]?[A-Z]", line) or statement:
            statement.append(line)
            if re.search(r"\. [A-E]$", line):
                joined = re.sub(r"([a-z])-\n([a-z])", r"\1\2", "\n".join(statement)).replace("\n", " ")
                words, row = joined.split(" "), ""
                for word in words:
                    if row and len(row) + 1 + len(word) > width:
                        out.append(row)
                        row = word
                    else:
                        row = f"{row} {word}" if row else word
                out.append(row)
                statement = []
            continue
        out.append(line)
    return "\n".join(out + statement)


def _renumbered(text: str, shift: int, page_shift: int) -> str:
    if shift:
        text = _rewrapped(text, 50 + page_shift)
    text = re.sub(r"^9\.(\d+)(?=[a-z]?[A-Z])", lambda m: f"9.{int(m.group(1)) + shift}", text, flags=re.M)
    return re.sub(r"\bS(1\d\d)\b", lambda m: f"S{int(m.group(1)) + page_shift}", text)


def _narrative_paragraphs(text: str) -> list[str]:
    paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
    return [
        p
        for p in paragraphs
        if not re.search(r"^(?:9\.\d+|S\d{3}|standardsofcare|Table|Recommendations)", p, re.M) and len(p) > 200
    ]


def build_chapter(target_bytes: int = CHAPTER_BYTES) -> tuple[str, dict]:
    source = fixture_text("ada_glycemic_therapy.txt")
    base = EXPECTED["ada_glycemic_therapy.txt"]
    numbers = sorted({int(re.match(r"9\.(\d+)", e["id"]).group(1)) for e in base["formal"]})
    step = numbers[-1]
    parts, formal = [], []
    for copy in range(3):
        parts.append(_renumbered(source, copy * step, copy * 6))
        for e in base["formal"]:
            n, suffix = re.fullmatch(r"9\.(\d+)([a-z]?)", e["id"]).groups()
            formal.append({**e, "id": f"9.{int(n) + copy * step}{suffix}"})
    narrative = _narrative_paragraphs(source)
    page, i = 160, 0
    while len("\n\n".join(parts).encode("utf-8")) < target_bytes:
        if i % 4 == 0:
            page += 1
            parts.append(
                f"S{page} Glycemic Therapy in Adults Standards of Clinical Care Volume 12, Supplement 1, 2026"
                if page % 2 == 0
                else f"standardsofcare.example.org Glycemic Therapy in Adults S{page}"
            )
        parts.append(narrative[i % len(narrative)])
        i += 1
    expected = {**base, "style": "ADA chapter assembled from the fixture", "formal": formal}
    return "\n\n".join(parts) + "\n", expected


def cases() -> list[tuple[str, str, dict]]:
    """(name, content, expected) for every fixture and the assembled chapter."""
    out = [(name, fixture_text(name), expected) for name, expected in EXPECTED.items()]
    content, expected = build_chapter()
    out.append((CHAPTER_NAME, content, expected))
    return out


# --------------------------------------------------------------------------
# scoring

_NORM = re.compile(r"\s+")

# PDF artifacts that must not reach the output
ARTIFACTS = {
    "hyphenation": re.compile(r"\b[A-Za-z]{2,}- (?!(?:and|or|to|nor|but|as)\b)[a-z]{2,}"),
    "ligature": re.compile("[\ufb00-\ufb06]"),
    "letter-spacing": re.compile(r"(?<![\w-])(?:[B-HJ-Zb-z] (?:\w{1,2} ){1,}){2,}"),
    "footnote": re.compile(
        r"(?<![mc\d])[\u00b9\u00b2\u00b3\u2070\u2074-\u207e]|[\u2020\u2021\u00b6\u2016]|[a-z%)][.,;:]\d{1,3}\b"
    ),
    "grade-shift": re.compile(r"(?:^|[\s\"])[A-E] \d{1,2}\.\d|\b\d{1,2}\.\d{1,2}[a-z]?[A-Z][a-z]"),
}


def _norm(text: str) -> str:
    return _NORM.sub(" ", text).strip().lower()


def artifacts(result: dict, expected: dict) -> dict[str, int]:
    """Artifacts in the feature and the recommendation texts, by kind; the
    fixture's own running headers/footers and table cells count too."""
    texts = [result["feature"]] + [r["text"] for r in result["recommendations"]]
    found = {kind: sum(len(p.findall(t)) for t in texts) for kind, p in ARTIFACTS.items()}
    found["header/footer"] = sum(t.count(s) for t in texts for s in expected["furniture"])
    found["table text"] = sum(t.count(s) for t in texts for s in expected["table_text"])
    return found


def score(result: dict, expected: dict) -> dict:
    formal = [r for r in result["recommendations"] if not r["narrative"]]
    unmatched = list(formal)
    matched = []
    for want in expected["formal"]:
        for rec in unmatched:
            if rec["source_id"] == want["id"] and _norm(rec["text"]).startswith(_norm(want["starts"])):
                matched.append((rec, want))
                unmatched.remove(rec)
                break
    kinds = artifacts(result, expected)
    return {
        "expected": len(expected["formal"]),
        "formal": len(formal),
        "narrative": len(result["recommendations"]) - len(formal),
        "matched": len(matched),
        "recall": len(matched) / len(expected["formal"]),
        "precision": len(matched) / len(formal) if formal else 0.0,
        "grades_ok": sum(_grade_ok(rec, want) for rec, want in matched),
        "grade_accuracy": sum(_grade_ok(rec, want) for rec, want in matched) / len(matched) if matched else 0.0,
        "artifacts": sum(kinds.values()),
        "artifact_kinds": {k: v for k, v in kinds.items() if v},
        "missed": [w for w in expected["formal"] if all(w is not m for _, m in matched)],
        "extra": unmatched,
    }
