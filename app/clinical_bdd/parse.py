"""Parse stage: population, conditions and action of one recommendation."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .model import Threshold
from .classify import CUE, IMPERATIVE_HEAD
from .negation import absent
from .thresholds import is_measure_name

# --------------------------------------------------------------------------
# populations and conditions

_POP_WORDS = (
    r"(?:all\s+|most\s+|many\s+|selected\s+|nonpregnant\s+|older\s+|young\s+|pregnant\s+|"
    r"asymptomatic\s+|hospitali[sz]ed\s+|postmenopausal\s+|premenopausal\s+|frail\s+|elderly\s+|"
    r"critically\s+ill\s+|symptomatic\s+|high-risk\s+|otherwise\s+healthy\s+|healthy\s+|"
    r"nonpregnant\s+|adult\s+|pediatric\s+|obese\s+|overweight\s+)*"
    r"(?:adults?|patients?|people|persons?|individuals?|children|child|adolescents?|youth|"
    r"infants?|newborns?|neonates?|women|men|girls|boys|those|anyone|survivors?|smokers)"
)
_LEADING_POP = re.compile(
    r"^(?:In|For|Among|Amongst|Within)\s+(?P<pop>.+?)\s*,\s*(?P<rest>.+)$", re.I
)
_SUBJECT_POP = re.compile(
    r"^(?P<pop>" + _POP_WORDS + r"\b[^,;]*?)\s+(?P<modal>should|must|shall)\s+(?P<rest>.+)$", re.I
)
_TRAILING_POP = re.compile(
    r"\s+(?:in|for|among|to(?:\s+(?:treat|manage))?|of(?=\s+(?:adults|people|patients|children|individuals|persons)\s+(?:with|without)\b))\s+"
    r"(?P<pop>" + _POP_WORDS + r"\b.*)$"
    # "… for T2D with an eGFR ≥25": the disease stands for the people who have it
    r"|\s+for\s+(?P<disease>(?:T[12]D|type\s+[12]\s+diabetes|CKD)\s+with\b.*)$",
    re.I,
)
# sentence openers before a leading population: "Second, and separately, for …"
_DISCOURSE = re.compile(
    r"^(?:(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|fourth|fifth|finally|lastly|also|additionally|"
    r"in\s+addition|furthermore|moreover|and|separately|similarly|likewise)\s*,?\s+)+",
    re.I,
)
# USPSTF: "Adults aged 40 to 75 years who …: The Task Force recommends …"
_POP_COLON = re.compile(r"^(?P<pop>" + _POP_WORDS + r"\b[^:;]{0,250}):\s+(?P<rest>(?-i:[A-Z]).+)$", re.I)
# "People with diabetes and hypertension qualify for …"
_POP_QUALIFY = re.compile(r"^(?P<pop>" + _POP_WORDS + r"\b[^,;:]*?)\s+(?:qualify|are\s+eligible|are\s+candidates)\b", re.I)
# the object of the action: "treating patients with X, Y and Z with an SGLT2 inhibitor"
_OBJECT_POP = re.compile(
    r"^(?P<verb>[a-z]+)\s+(?P<pop>(?:all\s+)?(?:patients|adults|people|persons|individuals|children|women|men)"
    r"\s+(?:with|who)\b.*?)(?P<obj>\s+with\s+.+)?$",
    re.I,
)
# a leading condition: "If an adult … is hyperglycaemic, consider …", "When opioids are started, …"
_LEADING_CONDITION = re.compile(
    r"^(?:If|When|Whenever|Before|After|Once|Until|While)\s+(?P<cond>[^,]{3,200}),\s*(?P<rest>.+)$"
)
# trailing conditions of the action: "… if: the person is not overweight, and …"
_TRAILING_CONDITION = re.compile(r"\s+(?P<kw>if|when|whenever|unless)\b:?\s+(?P<cond>.+)$", re.I)
_CONDITION_ITEMS = re.compile(r"\s*(?:,\s*(?:and|or)\s+|;\s*|,\s+|\s+but\s+)", re.I)
# a state named after the action: "… is contraindicated in pregnancy"
_TRAILING_STATE = re.compile(r"\s+(?:in|during)\s+(?P<state>pregnancy|lactation|breastfeeding)$", re.I)
# a condition named after "for": "… are preferred for chronic pain"
_FOR_CONDITION = re.compile(
    r"\s+for\s+(?P<cond>(?:[\w-]+\s+){0,3}(?:pain|disease|disorder|diabetes|hypertension|failure|infection|syndrome))$",
    re.I,
)
_CLINICIAN_SUBJECT = re.compile(
    r"^(?:clinicians?|providers?|physicians?|prescribers?|practitioners?|the\s+clinician|"
    r"health\s*care\s+(?:professionals?|providers?|teams?)|care\s+teams?|we)\b",
    re.I,
)

# participle -> imperative, to phrase passive actions ("should be measured")
_VERB_BASE = {
    "used": "use", "initiated": "initiate", "started": "start", "prescribed": "prescribe",
    "considered": "consider", "measured": "measure", "performed": "perform",
    "screened": "screen", "tested": "test", "treated": "treat", "monitored": "monitor",
    "offered": "offer", "given": "give", "administered": "administer", "targeted": "target",
    "checked": "check", "assessed": "assess", "evaluated": "evaluate", "referred": "refer",
    "obtained": "obtain", "avoided": "avoid", "continued": "continue",
    "discontinued": "discontinue", "stopped": "stop", "reduced": "reduce",
    "intensified": "intensify", "added": "add", "titrated": "titrate",
    "encouraged": "encourage", "counseled": "counsel", "counselled": "counsel",
    "individualized": "individualize", "individualised": "individualize",
    "recommended": "recommend", "included": "include", "combined": "combine",
    "repeated": "repeat", "confirmed": "confirm", "reviewed": "review", "educated": "educate",
    "vaccinated": "vaccinate", "immunized": "immunize", "adjusted": "adjust",
    "withheld": "withhold", "maintained": "maintain", "lowered": "lower",
    "calculated": "calculate", "estimated": "estimate", "documented": "document",
    "implemented": "implement", "provided": "provide", "applied": "apply",
    "examined": "examine", "identified": "identify", "managed": "manage",
    "instructed": "instruct", "switched": "switch", "de-escalated": "de-escalate",
    "deintensified": "deintensify", "restricted": "restrict", "limited": "limit",
    "made": "make", "diagnosed": "diagnose", "achieved": "achieve", "advised": "advise",
    "informed": "inform", "supplemented": "supplement", "scheduled": "schedule", "done": "do", "taken": "take",
    "sought": "seek", "drawn": "draw", "kept": "keep", "held": "hold", "begun": "begin",
    "undertaken": "undertake", "seen": "see", "pursued": "pursue", "followed": "follow",
}

_PASSIVE = re.compile(
    r"^(?P<subj>.+?)\s+(?:should|must|shall|can|may)\s+(?:not\s+|never\s+|also\s+|generally\s+|"
    r"routinely\s+|usually\s+|first\s+)*be\s+(?:\w+ly\s+)?(?P<part>[\w-]+ed|given|withheld|made|done|taken|sought|drawn|kept|held|begun|undertaken|seen)\b"
    r"(?P<rest>.*)$",
    re.I,
)
_ACTIVE = re.compile(
    r"^(?P<subj>.+?)\s+(?:should|must|shall)\s+(?:not\s+|never\s+|also\s+|generally\s+|"
    r"routinely\s+|usually\s+|first\s+)*(?P<rest>(?!be\b)\w.*)$",
    re.I,
)
_ADJ = re.compile(
    r"^(?P<subj>.+?)\s+(?:is|are|may\s+be|might\s+be|can\s+be|could\s+be)\s+"
    r"(?:(?:strongly|generally|also|routinely|usually|not|no\s+longer|the|a|\w+ly)\s+){0,2}"
    r"(?:recommended|indicated|suggested|preferred|advised|reasonable|beneficial|appropriate|"
    r"useful|contraindicated|harmful|warranted|encouraged|considered|first-line)\b(?P<rest>.*)$",
    re.I,
)
_PREFERRED = re.compile(
    r"^(?P<subj>.+?)\s+(?:is|are)\s+(?P<tail>(?:the|a)\s+(?:preferred|first-line|treatment\s+of\s+choice)\b.*)$",
    re.I,
)
_IT_IS = re.compile(
    r"^it\s+is\s+(?:not\s+)?(?:recommended|reasonable|advised|suggested)\s+(?:that|to)\s+(?P<rest>.+)$",
    re.I,
)
_WE_RECOMMEND = re.compile(
    r"^(?:we|the\s+\w+(?:\s+\w+)?)\s+(?:recommend|suggest)s?\s+(?:that\s+|against\s+)?(?P<rest>.+)$",
    re.I,
)
_IMPERATIVE = re.compile(r"^(?P<verb>consider|avoid|do\s+not\s+\w+)\s+(?P<rest>.+)$", re.I)
# an issuer's recommendation: "The USPSTF recommends that clinicians prescribe X",
# "The Task Force recommends against X"
_ISSUER_RECOMMENDS = re.compile(
    r"^(?:the\s+)?(?:(?-i:(?:[A-Z][a-z]+\s+(?:(?:of|for|and|the)\s+)?){2,8}\([A-Z]{2,8}\))|(?-i:[A-Z]{2,8})|(?:U\.?S\.?\s+)?(?:Preventive\s+Services\s+)?Task\s+Force|panel|committee|authors|experts|"
    r"work(?:ing)?\s+group|guideline\s+(?:development\s+)?group|writing\s+committee)\s+"
    r"(?:strongly\s+)?(?:recommends?|suggests?)\s+(?:that\s+|against\s+)?(?P<rest>.+)$",
    re.I,
)
# "We recommend that people with CKD be advised to …": the subject of the subjunctive
_SUBJUNCTIVE_POP = re.compile(
    r"^(?P<pop>" + _POP_WORDS + r"\b[^,;]*?)\s+be\s+(?P<part>[\w-]+ed|given|seen|taken)\b(?P<rest>.*)$", re.I
)
# "The USPSTF recommends that adults without X (ie, …) use a statin …": the subject of
# a subjunctive base verb after "recommends that" is the population
_SUBJUNCTIVE_ACTIVE_POP = re.compile(
    r"^(?P<pop>" + _POP_WORDS + r"\b(?:[^,;()]|\([^()]{0,160}\))*?)\s+"
    r"(?P<verb>use|take|receive|undergo|start|begin|initiate|get|avoid|stop|continue|limit|reduce|eat|engage)\b(?P<rest>.*)$",
    re.I,
)
# the people an imperative is addressed to: "Encourage people to keep …",
# "Offer advice and help to smokers to stop smoking"
_IMPERATIVE_OBJECT_POP = re.compile(
    r"^(?:encourage|advise|help|ask|invite|support|remind|inform|offer|give|provide|tell|prioriti[sz]e|identify|review|reassess)\b[^,;]*?\s+"
    r"(?P<pop>(?:all\s+)?(?:people|adults|patients|persons|individuals|children|women|men|smokers|carers|families))"
    r"(?=\s+(?:to|about|that|on|of|for)\s|$)",
    re.I,
)

# --------------------------------------------------------------------------
# population parsing

_SPLIT_CONDITIONS = re.compile(r"\s*(?:,\s*(?:and|or)?\s*|;\s*|\s+and\s+|\s+plus\s+)\s*", re.I)
_POP_CLAUSES = re.compile(
    r"\s+(?=(?:with|without|who|whose|aged|age\s+\d|at\s+(?:high|low|increased|intermediate|elevated|very\s+high)|"
    r"receiving|taking|on|treated|undergoing|after|following|presenting|hospitali[sz]ed|"
    r"requiring|in\s+whom)\b)",
    re.I,
)


# "a successful and sustained response": two adjectives of one condition
_ADJECTIVE_AND = re.compile(r"\b[a-z]+(?:ful|ous|ive|able|ible|ent|ant)\s+and\s+[a-z]+\b")


def _strip_article(s: str) -> str:
    return re.sub(r"^(?:an?|the)\s+", "", s.strip(" ,;."), flags=re.I)


_WHO_ITEMS = re.compile(r"\s*,\s*(?:and\s+|or\s+)?(?=(?:have|has|are|is|do|does|were|had|can|cannot)\b)", re.I)


def _parse_population(pop: str, thresholds: list[Threshold]):
    """Split a population phrase into its head, conditions ("with"), excluded
    conditions ("without") and other criteria ("who …", "aged …")."""
    marker = "\u00a7T\u00a7"
    for t in thresholds:
        if t.raw and t.raw in pop:
            pop = pop.replace(t.raw, marker)
    # a parenthetical holding a threshold is covered by the When step
    pop = re.sub(r"\s*\([^()]*" + marker + r"[^()]*\)", "", pop)
    # coordinated stages and types are one condition: "type 1 and type 2", "stage 3 and 4 CKD"
    pop = re.sub(r"\b(type\s+1)\s+(and|or)\s+(type\s+2)\b", lambda m: "\u2063".join(m.groups()), pop, flags=re.I)
    pop = re.sub(
        r"\b(stages?\s+\d[ab]?)\s+(and|or|to)\s+(\d[ab]?)\b", lambda m: "\u2063".join(m.groups()), pop, flags=re.I
    )
    raw_parts = _POP_CLAUSES.split(pop.strip())
    parts: list[str] = []
    for part in raw_parts:
        # "who are at very high risk": keep a relative clause whole
        if parts and (
            re.search(r"\s(?:or|and)$", parts[-1])
            or re.match(r"^(?:who|whose|in\s+whom)\b", parts[-1], re.I)
            and not re.match(r"^(?:with|without|aged)\b", part, re.I)
        ):
            parts[-1] = parts[-1] + " " + part
        else:
            parts.append(part)
    head = parts[0].strip(" ,")
    conditions: list[str] = []
    excluded: list[str] = []
    criteria: list[str] = []
    for part in parts[1:]:
        part = _ADJECTIVE_AND.sub(lambda m: m.group(0).replace(" and ", "\u2063and\u2063"), part.strip(" ,;"))
        part = re.sub(r"\s+but$", "", part)  # "without diabetes but with …"
        low = part.lower()
        if low.startswith("without "):
            items = _SPLIT_CONDITIONS.split(part[len("without ") :])
            excluded.extend(_strip_article(i) for i in items if i.strip())
        elif low.startswith("with "):
            items = _SPLIT_CONDITIONS.split(part[len("with ") :])
            conditions.extend(_strip_article(i) for i in items if i.strip())
        else:
            items = re.split(r"\s+but\s+", part)
            if low.startswith("who "):
                # "who have X, are not at risk of Y, and are willing to Z": one criterion per verb phrase
                items = ["who " + i for i in _WHO_ITEMS.split(part[len("who ") :]) if i.strip()]
            for item in items:
                missing = absent(item)
                if missing:
                    excluded.append(missing)
                else:
                    criteria.append(item)
    moved = [absent(c) for c in conditions]
    excluded += [m for m in moved if m]
    conditions = [c for c, m in zip(conditions, moved) if not m]
    if re.match(r"^(?:all|most|many)\s+", head, re.I):
        head = re.sub(r"^(?:all|most|many)\s+", "", head, flags=re.I)

    def has_threshold(s: str) -> bool:
        return marker in s

    head = tidy(re.sub(r"\s*(?:aged|ages|age|between|of)?\s*" + marker + r"(?:\s+of\s+age)?", "", head))

    def restore(items: list[str]) -> list[str]:
        out = []
        for item in items:
            # "diabetes aged §T§" keeps "diabetes"; "an eGFR §T§" is the threshold alone
            rest = tidy(re.sub(r"(?:\s*(?:aged|ages|of|an?|the|who\s+are))?\s*" + marker + r"(?:\s+(?:of\s+age|old))?", "", item))
            if has_threshold(item) and (not rest or is_measure_name(rest)):
                continue
            if rest:
                out.append(rest.replace("\u2063", " "))
        return out

    return lower_first(head), restore(conditions), restore(excluded), restore(criteria)


# --------------------------------------------------------------------------
# action phrasing


_WS = re.compile(r"\s+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,;.])")


def tidy(s: str) -> str:
    s = _WS.sub(" ", s).strip(" ,;:.")
    return _SPACE_BEFORE_PUNCT.sub(r"\1", s)


def lower_first(s: str) -> str:
    if len(s) > 1 and s[0].isupper() and not s[1].isupper() and not s[1].isdigit():
        return s[0].lower() + s[1:]
    return s


def _phrase_action(clause: str) -> tuple[str, str | None]:
    """Return (action phrase, population found as the subject or None)."""
    clause = tidy(clause)
    if IMPERATIVE_HEAD.match(clause) and not _IMPERATIVE.match(clause):
        return lower_first(clause), None  # "Initiate X when Y is not the preferred option"
    m = _IT_IS.match(clause)
    if m:
        return tidy(m.group("rest")), None
    m = _WE_RECOMMEND.match(clause)
    if m and re.match(r"^we\b", clause, re.I) or (m := _ISSUER_RECOMMENDS.match(clause)):
        # the negation is the polarity's: "we suggest not offering X" -> "offering X"
        rest = re.sub(r"^(?:not|avoiding|against)\s+(?:the\s+use\s+of\s+)?", "", m.group("rest"), flags=re.I)
        subject = _CLINICIAN_SUBJECT.match(rest)
        if subject:
            rest = rest[subject.end() :].strip()
        sub = _SUBJUNCTIVE_POP.match(rest)
        if sub and not subject:
            verb = _VERB_BASE.get(sub.group("part").lower(), sub.group("part"))
            return tidy(f"{verb} {sub.group('rest')}"), sub.group("pop")
        active = _SUBJUNCTIVE_ACTIVE_POP.match(rest) if re.search(r"\bthat\s+$", m.group(0)[: m.start("rest")]) else None
        if active and not subject:
            pop = re.sub(r"\s*\((?:ie|i\.e\.|eg|e\.g\.),?\s[^()]*\)", "", active.group("pop"), flags=re.I)
            return tidy(f"{active.group('verb').lower()} {active.group('rest')}"), pop
        action, pop = _phrase_action(rest)
        return action, pop
    m = _IMPERATIVE.match(clause)
    if m:
        verb = m.group("verb").lower()
        rest = tidy(m.group("rest"))
        if verb.startswith("do not"):
            return tidy(verb[len("do not ") :] + " " + rest), None
        if verb == "avoid":
            return rest, None
        return f"{verb} {rest}", None
    m = _PASSIVE.match(clause)
    if m:
        subj = tidy(m.group("subj"))
        part = m.group("part").lower()
        rest = tidy(m.group("rest"))
        base = _VERB_BASE.get(part)
        if _SUBJECT_POP.match(subj + " should x") and re.match(_POP_WORDS + r"\b", subj, re.I):
            verb = base or part
            return tidy(f"{verb} {rest}"), subj
        if base:
            return tidy(f"{base} {lower_first(subj)} {rest}"), None
        return tidy(f"{lower_first(subj)} {part} {rest}"), None
    m = _ACTIVE.match(clause)
    if m:
        subj = tidy(m.group("subj"))
        rest = tidy(m.group("rest"))
        if _CLINICIAN_SUBJECT.match(subj):
            return rest, None
        if re.match(_POP_WORDS + r"\b", subj, re.I):
            return rest, subj
        return tidy(f"{lower_first(subj)} to {rest}"), None
    m = _PREFERRED.match(clause)
    if m:
        return tidy(f"{lower_first(m.group('subj'))} as {m.group('tail')}"), None
    m = _ADJ.match(clause)
    if m:
        subj = tidy(m.group("subj"))
        rest = re.sub(
            r"^\s*(?:and|but)\s+(?:is|are)\s+(?:not\s+)?(?:\w+ly\s+)?\w+\b", "", m.group("rest"), flags=re.I
        )
        return tidy(f"{lower_first(subj)} {tidy(rest)}"), None
    return lower_first(clause), None



# --------------------------------------------------------------------------
# one statement: population (leading, subject or trailing) and action

_TRAILING_CIRCUMSTANCE = re.compile(
    r"\s+(?:because|since|due\s+to|given\s+that|at\s+(?:the|each|every|initial|diagnosis)|"
    r"(?:during|before|prior\s+to|once)\s+\S|annually|if|when|unless)\b.*$",
    re.I,
)


@dataclass
class Parsed:
    population: str | None
    conditions: list[str]
    excluded_conditions: list[str]
    criteria: list[str]
    action: str


def _trailing_conditions(action: str, thresholds: list[Threshold]) -> tuple[str, list[str], list[str]]:
    """Split "… if: the person is not overweight, and metformin is not
    tolerated" off the action: (action, criteria, excluded)."""
    m = _TRAILING_CONDITION.search(action)
    if not m:
        return action, [], []
    criteria, excluded = [], []
    for item in _CONDITION_ITEMS.split(m.group("cond")):
        item = tidy(item)
        if not item or any(t.raw and t.raw in item for t in thresholds) or len(item.split()) < 2 and not absent(item):
            continue
        missing = absent(item)
        if m.group("kw").lower() == "unless":
            excluded.append(item)
        elif missing:
            excluded.append(missing)
        else:
            criteria.append(item)
    return tidy(action[: m.start()]), criteria, excluded


# "If BP is high (e.g. SBP ≥160 or DBP ≥100) or there is evidence of organ damage, …": the
# finding is the other way in; the cut-off scenario is for patients without it
_OR_FINDING = re.compile(
    r"^[\s)\]]*,?\s*or\s+(?:if\s+)?(?:there\s+(?:is|are)\s+|the\s+(?:patient|person)\s+has\s+|has\s+)?"
    r"(?:(?:accompanying|any|other)\s+)?(?:evidence\s+of\s+)?(?P<alt>[^\d<>\u2264\u2265,;]+?)\s*$",
    re.I,
)


def _cut_off_or_finding(criteria: list[str], excluded: list[str], thresholds: list[Threshold]) -> tuple[list[str], list[str]]:
    """A criterion that is the statement's cut-offs OR a finding: the cut-offs are the
    Examples, the finding is excluded from them (else a row below the cut-offs would say
    "should not recommend" for a patient the finding alone qualifies)."""
    kept, excluded = [], list(excluded)
    for c in criteria:
        ends = [c.find(t.raw) + len(t.raw) for t in thresholds if t.raw and t.raw in c]
        m = _OR_FINDING.match(c[max(ends) :]) if ends else None
        if m and len(m.group("alt").split()) >= 2:
            alt = tidy(m.group("alt"))
            if alt not in excluded:
                excluded.append(alt)
            continue
        kept.append(c)
    return kept, excluded


def parse_statement(body: str, cue: re.Match | None, thresholds: list[Threshold]) -> Parsed:
    """Population from a leading "In adults with …," clause, the subject or a
    trailing "… in adults with …"; conditions from leading and trailing
    "if"/"when" clauses; the action from the rest."""
    population = None
    lead_criteria: list[str] = []
    m = _POP_COLON.match(body)
    from_colon = bool(m)
    if m:
        population, body = m.group("pop"), m.group("rest")
    m = _LEADING_CONDITION.match(body)
    if m and not _LEADING_POP.match(body):
        lead_criteria.append(tidy(m.group("cond")))
        body = m.group("rest")
        cue = CUE.search(body)
    d = _DISCOURSE.match(body)
    if d and not population and _LEADING_POP.match(body[d.end() :]):
        # "Second, and separately, for very elderly patients …,": the ordinal is no population
        body = body[d.end() :]
        cue = CUE.search(body)
    clause = body
    m = None if population else _LEADING_POP.match(body)
    if m:
        # the population clause ends at the last comma before the cue
        comma = body.rfind(",", 0, cue.start()) if cue and cue.start() > m.start("rest") else -1
        if comma > 0:
            population, clause = body[m.start("pop") : comma], body[comma + 1 :]
        else:
            population, clause = m.group("pop"), m.group("rest")
    action, subject_pop = _phrase_action(clause)
    if subject_pop and not population:
        population = subject_pop
    if not population and (q := _POP_QUALIFY.match(clause)):
        population = q.group("pop")
    if not population and (o := _OBJECT_POP.match(action)):
        population = o.group("pop")
        action = tidy(o.group("verb") + (o.group("obj") or ""))
    if not population and (o := _IMPERATIVE_OBJECT_POP.match(action)):
        population = o.group("pop")  # the action keeps its object: "encourage people to …"
    if not population:
        t = _TRAILING_POP.search(action)
        if t and not re.search(r"\b(?:or|and)$", action[: t.start()].strip()):
            pop_text = t.group("pop") or t.group("disease")
            kept = action[: t.start()]
            tail = _TRAILING_CIRCUMSTANCE.search(pop_text)
            if tail:
                kept = kept + " " + tail.group(0).strip()
                pop_text = pop_text[: tail.start()]
            population = pop_text
            action = tidy(kept)
    if not action:
        action = lower_first(body)
    action, trailing, trailing_excluded = _trailing_conditions(action, thresholds)
    states = []
    for pattern in (_TRAILING_STATE, _FOR_CONDITION):
        s = pattern.search(action)
        if s:
            states.append(tidy(s.group(s.lastgroup)))
            action = tidy(action[: s.start()])
    criteria_extra = lead_criteria + states + trailing
    criteria_extra, trailing_excluded = _cut_off_or_finding(criteria_extra, trailing_excluded, thresholds)
    if not population:
        return Parsed(None, [], trailing_excluded, criteria_extra, action)
    head, conditions, excluded, criteria = _parse_population(tidy(population), thresholds)
    if from_colon and (t := _TRAILING_POP.search(action)) and t.group("pop"):
        # a table row: who it is for comes from its population cell, but an absence the
        # statement names ("… in adults who … are not at increased risk for bleeding") still excludes
        excluded += [e for e in _parse_population(tidy(t.group("pop")), thresholds)[2] if e not in excluded]
    return Parsed(head, conditions, excluded + trailing_excluded, criteria + criteria_extra, action)
