"""Entry point of extraction: Document -> Extraction (metadata + evidence-backed facts).

Metadata comes from commune_metrics.extract.metadata; facts from the rules in rules/metrics.yaml applied
sentence by sentence (commune_metrics.extract.facts). The compiled rules are built once per process.
"""

from __future__ import annotations

import functools

from commune_metrics.core.document import Document
from commune_metrics.core.model import Extraction, Fact
from commune_metrics.extract.doc_identity import detect_doc_number, detect_subject
from commune_metrics.extract.facts import FactFinder
from commune_metrics.extract.metadata import extract_meta
from commune_metrics.extract.rules import get_rules
from commune_metrics.extract.sentences import split_sentences
from commune_metrics.extract.tables import SEP, cell_sentences, table_blocks


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
    sentences = split_sentences(text)

    def default_kind(sent) -> str:
        kind = "target" if doc_type == "plan" else "actual"
        top = sent.top_heading.lower()
        if kind == "actual" and any(p.search(top) for p in rules.target_headings):
            return "target"
        if kind == "target" and any(p.search(top) for p in rules.actual_headings):
            return "actual"  # the baseline section of a plan
        return kind

    for sent in sentences:
        if SEP in sent.text or not any(ch.isdigit() for ch in sent.text):
            continue
        for fact in finder.sentence_facts(sent, text, low, default_kind(sent)):
            fact.page = doc.page_at(fact.char_start)
            facts.append(fact)
    for block in table_blocks(sentences):
        for cell in cell_sentences(block):
            syn = cell.sentence
            kind = cell.kind or default_kind(cell.row)
            for fact in finder.sentence_facts(syn, syn.text, _lower_same_length(syn.text), kind):
                fact.char_start, fact.char_end, fact.evidence = cell.row.start, cell.row.end, cell.row.text
                fact.extractor += ":table"
                fact.page = doc.page_at(fact.char_start)
                facts.append(fact)
    facts.sort(key=lambda f: f.char_start)
    return facts


def extract(doc: Document) -> Extraction:
    meta = extract_meta(doc)
    meta.doc_number = detect_doc_number(doc.text)
    meta.subject = detect_subject(doc.text)
    return Extraction(meta=meta, facts=extract_facts(doc, meta.doc_type))
