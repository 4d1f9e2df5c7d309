"""The extraction engine is shared by every thread of a process (Prefect runs files on a
ThreadPoolTaskRunner): documents extracted on 4 threads at once must give exactly what they
give one after another."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from commune_metrics.extract.extractor import extract
from commune_metrics.readers import load_document

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "raw" / "samples"


def _documents(seed_paths: list[Path]) -> list:
    samples = sorted(p for p in SAMPLES.iterdir() if p.suffix in (".txt", ".docx"))
    paths = [*seed_paths, *samples][:8]
    assert len(paths) == 8, paths
    return [load_document(p) for p in paths]


def _signature(doc) -> list[tuple]:
    ex = extract(doc)
    return [(f.metric, f.kind, f.value, f.char_start, f.extractor, f.confidence) for f in ex.facts]


def test_eight_documents_on_four_threads_equal_the_sequential_result(seed_paths: list[Path]) -> None:
    docs = _documents(seed_paths)
    sequential = [_signature(d) for d in docs]
    assert sum(map(len, sequential)) > 40  # the documents really carry figures
    # Several rounds, each document many times, so the threads interleave inside sentences.
    jobs = docs * 6
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(_signature, jobs))
    for i, got in enumerate(threaded):
        assert got == sequential[i % len(docs)], f"document {i % len(docs)} differs on threads"
