"""Negation and its scope: a negation either turns the recommendation round
("X is not recommended", "We suggest not offering X", "Do not offer X") or
sits inside one of its conditions ("… if the person is not overweight",
"adults who do not have heart failure", "Because devices may not measure …,
palpate the pulse"), where it belongs to that condition only.

The scope of a subordinate clause runs from its opener (if, when, because,
who, …) to the next comma or to the recommendation's own verb; a negation
in it is the condition's.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

# negations that make the recommendation itself negative
RECOMMENDATION_NEGATION = re.compile(
    r"\b(?:should|must|shall|can|may)\s+(?:not|never)\b"
    r"|\b(?:is|are)\s+not\s+(?:\w+\s+)?(?:recommended|indicated|advised|suggested|beneficial|"
    r"useful|appropriate|warranted)\b"
    r"|\bnot\s+(?:be\s+)?recommended\b|\bno\s+longer\s+recommended\b"
    r"|\b(?:should|must)\s+(?:\w+\s+)?(?:be\s+)?avoided\b|^avoid\b|^do\s+not\b"
    r"|\b(?:is|are)\s+(?:contraindicated|harmful)\b|\brecommend(?:s|ed)?\s+against\b"
    r"|\b(?:recommend|suggest)s?\s+(?:not|avoiding)\b"
    r"|\bis\s+of\s+no\s+benefit\b",
    re.I,
)
# openers of a clause that states a condition, a reason or a relative
_SCOPE_OPENER = re.compile(
    r"\b(?:if|when|whenever|unless|because|since|although|though|while|where|once|until|"
    r"who|whose|whom|(?<!recommend )(?<!recommends )(?<!suggest )(?<!suggests )(?<!note )(?<!aware )that|which|in\s+whom|for\s+whom|as\s+long\s+as)\b",
    re.I,
)
# what ends such a clause before the negation: a comma, or the recommendation's verb
_SCOPE_END = re.compile(
    r",|\b(?:should|must|shall|is\s+recommended|are\s+recommended|we\s+(?:recommend|suggest)|consider|offer)\b",
    re.I,
)


def _in_condition(text: str, at: int) -> bool:
    """Whether position ``at`` lies inside a subordinate clause."""
    openers = list(_SCOPE_OPENER.finditer(text, 0, at))
    if not openers:
        return False
    opener = openers[-1]
    return not _SCOPE_END.search(text, opener.end(), at)


in_condition = _in_condition  # public: also scopes "the evidence is insufficient" (extractor)


def main_negated(text: str) -> bool:
    """True when a negation applies to the recommendation, not to a condition.

    The same answer as ``any(not _in_condition(text, m.start()) for m in …)``
    in linear time: openers and clause ends are found once, each negation's
    clause looked up by bisection (scanning from the start for every negation
    was quadratic: "If should not " repeated)."""
    negations = list(RECOMMENDATION_NEGATION.finditer(text))
    if not negations:
        return False
    opener_ends = [m.end() for m in _SCOPE_OPENER.finditer(text)]
    clause_ends = [(m.start(), m.end()) for m in _SCOPE_END.finditer(text)]
    clause_end_starts = [start for start, _ in clause_ends]
    for m in negations:
        at = m.start()
        i = bisect_right(opener_ends, at) - 1
        if i < 0:
            return True
        k = bisect_left(clause_end_starts, opener_ends[i])
        if k < len(clause_ends) and clause_ends[k][1] <= at:
            return True  # the clause of its opener ended before it
    return False


# a condition that is the absence of something: "the person is not overweight",
# "who do not have heart failure", "who have no symptoms", "no major risk factors"
_ABSENT = re.compile(
    r"^(?:(?:who|that)\s+|the\s+(?:person|patient|adult|child|woman|man)\s+)?"
    r"(?:(?:is|are)\s+not|(?:does|do)\s+not\s+have|(?:has|have)\s+no|no)\s+(?P<what>.+)$",
    re.I,
)


def absent(condition: str) -> str | None:
    """What a negated condition says the patient does not have, or None."""
    m = _ABSENT.match(condition.strip())
    return m.group("what").strip(" ,;.") if m else None
