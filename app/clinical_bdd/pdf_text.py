"""Text of a PDF guideline, by pdfminer.six's layout analysis: text boxes in
reading order (one column after the other), a form feed between pages, so
that the clean stage can drop running headers and footers at page edges,
join line-end hyphens and map ligatures. Recommendation spans then point into
this text, which the API returns beside them (``source_text``).
"""
from __future__ import annotations

import io


class InvalidPdf(Exception):
    """The bytes are not a PDF that text can be read from."""


# boxes_flow weighs horizontal against vertical position when boxes are put
# in reading order; 0.5 (pdfminer's default) reads a two-column page column by
# column; all_texts also reads text inside figures (tables drawn as figures)
_LAYOUT = {"boxes_flow": 0.5, "line_margin": 0.5, "char_margin": 2.0, "all_texts": True}


def pdf_to_text(data: bytes, max_pages: int = 0) -> str:
    """The PDF's text; pages separated by form feeds. Raises InvalidPdf."""
    if not data.startswith(b"%PDF-"):
        raise InvalidPdf("the body does not start with %PDF-")
    # imported here: pdfminer costs ~0.5 s to import, and only PDF requests need it
    from pdfminer.high_level import extract_text
    from pdfminer.layout import LAParams
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.psparser import PSException

    try:
        text = extract_text(io.BytesIO(data), laparams=LAParams(**_LAYOUT), maxpages=max_pages)
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError) as exc:
        raise InvalidPdf(f"the PDF could not be read ({type(exc).__name__})") from None
    if not text.strip():
        raise InvalidPdf("the PDF has no extractable text (a scanned image needs OCR first)")
    return text.rstrip("\f")
