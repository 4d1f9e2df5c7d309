"""Entry point of extraction: Document -> Extraction (metadata + evidence-backed facts).

Metadata comes from commune_metrics.extract.metadata; facts from the rules in rules/metrics.yaml applied
sentence by sentence (commune_metrics.extract.facts). The compiled rules are built once per process.
"""

from __future__ import annotations

import dataclasses
import functools

import regex

from commune_metrics.core.document import Document
from commune_metrics.core.model import Extraction, Fact
from commune_metrics.extract.doc_identity import detect_doc_number, detect_subject
from commune_metrics.extract.facts import FactFinder
from commune_metrics.extract.metadata import extract_meta
from commune_metrics.extract.rules import get_rules
from commune_metrics.extract.sentences import split_sentences
from commune_metrics.extract.tables import SEP, cell_sentences, table_blocks
from commune_metrics.extract.verifier import Context, default_verifier


@functools.lru_cache(maxsize=1)
def _finder() -> FactFinder:
    return FactFinder(get_rules())


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # a few characters (e.g. "İ") grow when lower-cased; keep offsets exact
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def extract_facts(doc: Document, doc_type: str, level: str | None = None,
                  own_name: str | None = None, verify: bool = True, year: int | None = None) -> list[Fact]:
    """Every candidate figure of the document with its scope, plausibility and (with `verify`)
    the verifier's calibrated confidence; unsure or implausible ones have status "review".
    `level` and `own_name` describe the reporting unit (read from the text when not given), `year`
    the year its period ends in (a figure its phrase dates by an earlier year is an earlier period's)."""
    finder = _finder()
    rules = finder.rules
    text = doc.text
    scope = rules.scope
    assert scope is not None
    if level is None:
        level = scope.doc_level(text)
    low = _lower_same_length(text)
    facts: list[Fact] = []
    sentences = split_sentences(text)

    head = low[: rules.target_document_head_chars]
    plan_news = doc_type == "other" and any(p.search(head) for p in rules.target_document_heads)

    def default_kind(sent) -> str:
        kind = "target" if doc_type == "plan" or plan_news else "actual"
        top = sent.top_heading.lower()
        if kind == "actual" and any(p.search(top) for p in rules.target_headings):
            return "target"
        if kind == "target" and any(p.search(top) for p in rules.actual_headings):
            return "actual"  # the baseline section of a plan
        return kind

    carry = False  # the sentence before set targets, so list items right after it do too
    for sent in sentences:
        digits = any(ch.isdigit() for ch in sent.text)
        if not digits and not carry:
            continue
        cues = {kind for kind, pat in rules.kind_cues if pat.search(low, sent.start, sent.end)}
        item = _LIST_ITEM.match(text, sent.start, sent.end) is not None \
            and (sent.start == 0 or text[sent.start - 1] == "\n")
        kind = default_kind(sent)
        # "... đã đề ra mục tiêu đến năm 2025, ... Theo đó, 90% hồ sơ công việc cấp tỉnh ...": a
        # sentence that opens by going on from targets set just before sets them too
        goes_on = carry and any(p.rx.match(low, _SPACES_BULLET.match(low, sent.start, sent.end).end(),
                                           sent.end) for p in rules.target_continuations)
        listed = carry and (item or goes_on) and "actual" not in cues
        if listed:
            # "Theo đó, đến năm 2025, tối thiểu 80% ...\n100% hồ sơ ...; tối thiểu 60% ...": a line
            # that opens with a value and names nothing actual continues the list of targets
            kind = "target"
        carry = cues == {"target"} or listed
        if SEP in sent.text or not digits:
            continue
        for fact in finder.sentence_facts(sent, text, low, kind):
            fact.page = doc.page_at(fact.char_start)
            at = fact.value_start if fact.value_start is not None else fact.char_end
            fact.scope = scope.fact_scope(text, sent.start, at, at + 1, sent.heading, level, own_name, year)
            facts.append(fact)
    for block in table_blocks(sentences):
        for cell in cell_sentences(block, rules.grammar):
            syn = cell.sentence
            kind = cell.kind or default_kind(cell.row)
            for fact in finder.sentence_facts(syn, syn.text, _lower_same_length(syn.text), kind):
                fact.char_start, fact.char_end, fact.evidence = cell.row.start, cell.row.end, cell.row.text
                fact.extractor += ":table"
                fact.value_start = None  # a table cell: its row and caption say whose it is
                fact.scope = scope.fact_scope(text, cell.row.start, cell.row.end, cell.row.end,
                                              cell.row.heading, level, own_name)
                fact.page = doc.page_at(fact.char_start)
                facts.append(fact)
    _read_alone(facts, rules, low)
    for fact in facts:
        reason = implausible(fact, rules, level) or field_breakdown(fact, text, rules) \
            or headless_row(fact, text, rules)
        if reason:
            fact.status, fact.reason = "review", reason
    verifier = default_verifier() if verify else None
    if verifier is not None:
        verifier.apply(facts, Context(text, level, doc_type, tuple(facts)))
    facts.sort(key=lambda f: f.char_start)
    return facts


# a line that opens with a value: a bullet, at most two words ("tối thiểu", "trên"), a number
_SPACES_BULLET = regex.compile(r"[\s\-–•+*]*")
_LIST_ITEM = regex.compile(_SPACES_BULLET.pattern + r"(?:\p{L}+\s+){0,2}\d")


def _read_alone(facts: list[Fact], rules, low: str) -> None:
    """Re-read figures whose metric means another one in a document without its contrast words
    (rules/metrics.yaml `alone_means`); with `keep_both` the figure keeps its own reading too."""
    twins: list[Fact] = []
    for fact in facts:
        rule = rules.by_code.get(fact.metric)
        if rule is not None:
            read = rules.read_as(rule, low)
            if read is not rule and rule.alone_means is not None and rule.alone_means[2]:
                twins.append(dataclasses.replace(fact))
            fact.metric = read.code
    facts.extend(twins)


def headless_row(fact: Fact, text: str, rules) -> str | None:
    """Why a figure cannot be read: it stands in a row of numbers with only spaces between them,
    a table flattened to text whose column headers are lost (grammar.yaml
    `table.headless_row_numbers`), or None."""
    at = fact.value_start
    if at is None:
        return None
    line_start = text.rfind("\n", 0, at) + 1
    line_end = text.find("\n", at)
    line_end = len(text) if line_end < 0 else line_end
    for m in rules.grammar.headless_row.finditer(text, line_start, line_end):
        if m.start() <= at < m.end():
            return "a row of numbers without its column headers: which column each one is cannot be told"
    return None


def field_breakdown(fact: Fact, text: str, rules) -> str | None:
    """Why a dossier count is one field's share of the work ("557 hồ sơ chứng thực", "Hộ tịch:
    120 hồ sơ"; grammar.yaml `field_breakdown`), or None. Table cells are left to their rows."""
    at = fact.value_start
    if rules.field_after is None or at is None or fact.unit != "count" \
            or not fact.metric.startswith("dossiers."):
        return None
    after = rules.field_after.match(text, at, min(len(text), at + 80))
    line = max(text.rfind("\n", 0, at), text.rfind(";", 0, at), text.rfind(",", 0, at)) + 1
    before = rules.field_before.search(text, max(line, at - 60), at)
    found = after or before
    if found is None:
        return None
    return f"a breakdown by field: {' '.join(found.group(0).split())!r} is not the unit's total"


def implausible(fact: Fact, rules, level: str | None) -> str | None:
    """Why a value cannot be this metric's for a unit of this level (rules/metrics.yaml
    `plausible` and `targets`, scoring.yaml `plausible_percent`), or None when it can."""
    bounds = []
    if fact.unit == "percent" and rules.scoring is not None:
        bounds.append((rules.scoring.plausible_percent.min, rules.scoring.plausible_percent.max, "a share"))
    rule = rules.by_code.get(fact.metric)
    if rule is not None and fact.kind == "target" and not rule.targets:
        return f"implausible: no plan sets {fact.metric} (read as a target of {fact.value:g})"
    if rule is not None:
        for key in (level, "any"):
            if key in rule.plausible:
                lo, hi = rule.plausible[key]
                bounds.append((lo, hi, f"{fact.metric} of a {key}" if key != "any" else fact.metric))
                break
    for lo, hi, what in bounds:
        if (lo is not None and fact.value < lo) or (hi is not None and fact.value > hi):
            span = f"{'' if lo is None else f'{lo:g}'}..{'' if hi is None else f'{hi:g}'}"
            return f"implausible: {fact.value:g} is outside {span} for {what}"
    return None


def extract(doc: Document, verify: bool = True) -> Extraction:
    meta = extract_meta(doc)
    meta.doc_number = detect_doc_number(doc.text)
    meta.subject = detect_subject(doc.text)
    scope = _finder().rules.scope
    assert scope is not None
    meta.level = scope.doc_level(doc.text)
    own = meta.commune if meta.level == "commune" else None
    # a figure dated by an earlier year than the period reported on is an earlier period's
    year = meta.period_end.year if meta.period_end else None
    return Extraction(meta=meta, facts=extract_facts(doc, meta.doc_type, meta.level, own, verify, year))
