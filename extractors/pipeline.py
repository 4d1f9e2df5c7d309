"""Entry point of extraction: Document -> Extraction (metadata + evidence-backed facts).

Metadata comes from extractors.metadata; facts from the rules in rules/metrics.yaml applied
sentence by sentence (extractors.facts). The compiled rules are built once per process.
"""

from __future__ import annotations

import functools

from extractors.facts import FactFinder
from extractors.metadata import extract_meta
from extractors.model import Extraction, Fact
from extractors.rules import get_rules
from extractors.sentences import split_sentences
from pipeline.document import Document


@functools.lru_cache(maxsize=1)
def _finder() -> FactFinder:
    return FactFinder(get_rules())


def _lower_same_length(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    # a few characters (e.g. "İ") grow when lower-cased; keep offsets exact
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def extract_facts(doc: Document, doc_type: str) -> list[Fact]:
    finder = _finder()
    rules = finder.rules
    text = doc.text
    low = _lower_same_length(text)
    facts: list[Fact] = []
    for sent in split_sentences(text):
        if not any(ch.isdigit() for ch in sent.text):
            continue
        default_kind = "target" if doc_type == "plan" else "actual"
        top = sent.top_heading.lower()
        if default_kind == "actual" and any(p.search(top) for p in rules.target_headings):
            default_kind = "target"
        elif default_kind == "target" and any(p.search(top) for p in rules.actual_headings):
            default_kind = "actual"  # the baseline section of a plan
        for fact in finder.sentence_facts(sent, text, low, default_kind):
            fact.page = doc.page_at(fact.char_start)
            facts.append(fact)
    return facts


def extract(doc: Document) -> Extraction:
    meta = extract_meta(doc)
    return Extraction(meta=meta, facts=extract_facts(doc, meta.doc_type))
