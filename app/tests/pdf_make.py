"""PDF fixtures made in the tests with reportlab (a dev-only dependency): a
two-column guideline page with a running header and footer on every page,
graded statements, a table; and the same statements as one column."""
from __future__ import annotations

import io

from reportlab.lib.pagesizes import letter
from reportlab.pdfgen import canvas

HEADER = "Journal of Example Diabetes Care  Vol 4  Supplement 1"
FOOTER = "example-care.org/standards  downloaded 3 May 2026"

# (column lines) per page: left column, right column; written for these tests
PAGES = [
    (
        [
            "GLUCOSE-LOWERING THERAPY",
            "Recommendations",
            "4.1In adults with type 2 diabetes, metformin",
            "should be started at diagnosis unless it is",
            "contraindicated. A",
            "4.2In adults with type 2 diabetes and an eGFR",
            "below 30 mL/min/1.73 m2, metformin isnot",
            "recommended. B",
            "4.3Insulin should be started when the A1C is",
            ">10% [>86 mmol/mol]. E",
        ],
        [
            "4.4In adults with type 2 diabetes and heart",
            "failure, an SGLT2 inhibitor is recom-",
            "mended to reduce hospitalization. A",
            "",
            "Metformin has been used for decades and is",
            "inexpensive; most people tolerate it when the",
            "dose is raised slowly over several weeks.",
        ],
    ),
    (
        [
            "BLOOD PRESSURE",
            "Recommendations",
            "4.5In adults aged 40 years or over with diabetes,",
            "a second drug should be added if lifestyle",
            "changes do not reduce blood pressure to below",
            "140/80 mmHg. B",
            "",
            "Table 4.1 Agents and their effects",
        ],
        [
            "Home readings help confirm the diagnosis, and",
            "clinicians should review them at each visit",
            "before changing treatment.",
        ],
    ),
]
TABLE = [("Agent", "Weight", "Cost"), ("Metformin", "Neutral", "Low"), ("Insulin", "Gain", "Variable")]


def _column(c: canvas.Canvas, x: float, lines: list[str]) -> float:
    y = 700
    for line in lines:
        c.drawString(x, y, line)
        y -= 14
    return y


def guideline_pdf(two_columns: bool = True) -> bytes:
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=letter)
    c.setFont("Helvetica", 10)
    for page, (left, right) in enumerate(PAGES, start=1):
        c.drawString(50, 750, f"{HEADER}  S{100 + page}")
        if two_columns:
            y = _column(c, 50, left)
            _column(c, 320, right)
        else:
            y = _column(c, 50, left + [""] + right)
        if page == 2:  # the table under the left column
            for row in TABLE:
                y -= 14
                for col, cell in enumerate(row):
                    c.drawString(50 + col * 80, y, cell)
        c.drawString(50, 40, FOOTER)
        c.showPage()
    c.save()
    return buf.getvalue()
