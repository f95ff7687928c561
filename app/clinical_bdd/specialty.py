"""Specialty inference from keyword counts."""
from __future__ import annotations

import re

SPECIALTY_KEYWORDS: list[tuple[str, re.Pattern]] = [
    ("diabetes", re.compile(r"\bdiabet|\bA1C\b|\bHbA1c\b|\binsulin|\bglucose|\bmetformin|\bSGLT2|\bGLP-1|\bhypoglyc", re.I)),
    ("hypertension", re.compile(r"\bhypertens|\bblood pressure|\bBP\b|\bantihypertensive|mm ?Hg", re.I)),
    ("lipids", re.compile(r"\bLDL|\bcholesterol|\bstatin|\blipid|\btriglycerid|\bezetimibe|\bPCSK9", re.I)),
    ("cardiology", re.compile(r"\bheart failure|\batrial fibrillation|\bcoronary|\bmyocardial|\banticoagul|\bLVEF|\bejection fraction|\bcardiac", re.I)),
    ("nephrology", re.compile(r"\bCKD\b|\beGFR|\bkidney|\balbuminuria|\bUACR|\bdialysis|\brenal", re.I)),
    ("pediatrics", re.compile(r"\bchild|\badolescen|\bpediatric|\binfant|\bpercentile|\byouth", re.I)),
    ("pulmonology", re.compile(r"\basthma|\bCOPD\b|\binhaler|\bspirometr", re.I)),
    ("obstetrics", re.compile(r"\bpregnan|\bgestational|\bpostpartum|\bpreeclampsia", re.I)),
]


SPECIALTY_SAMPLE_CHARS = 20_000


def infer_specialty(text: str) -> str:
    """The specialty whose keywords occur most often in the first 20,000 characters."""
    text = text[:SPECIALTY_SAMPLE_CHARS]
    scores = [(len(p.findall(text)), -i, name) for i, (name, p) in enumerate(SPECIALTY_KEYWORDS)]
    best = max(scores)
    return best[2] if best[0] > 0 else "general"
