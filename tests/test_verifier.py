"""The learned verifier: it ships in the package, loads offline with no ML library, gives the
same output twice, holds unsure candidates for review, and `make train` rebuilds it byte for
byte from the committed rules and corpora."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from commune_metrics.extract.extractor import extract
from commune_metrics.extract.verifier import MODEL_PATH, default_verifier, load_verifier
from commune_metrics.readers import load_document

REPO = Path(__file__).resolve().parent.parent


def test_the_model_ships_and_loads_offline() -> None:
    verifier = load_verifier()
    assert verifier is not None, f"no model at {MODEL_PATH}"
    assert MODEL_PATH.is_relative_to(REPO / "commune_metrics"), "the model is package data"
    assert 0.0 < verifier.threshold < 1.0 and len(verifier.weights) > 20
    assert "sklearn" not in sys.modules, "scoring must not need scikit-learn"


def test_same_output_twice_and_unsure_candidates_held(seed_paths: list[Path]) -> None:
    verifier = default_verifier()
    assert verifier is not None
    for path in seed_paths:
        doc = load_document(path)
        first = [(f.metric, f.value, f.confidence, f.status, f.reason) for f in extract(doc).facts]
        second = [(f.metric, f.value, f.confidence, f.status, f.reason) for f in extract(doc).facts]
        assert first == second
        for _m, _v, confidence, status, reason in first:
            assert 0.0 <= confidence <= 1.0
            if status == "review" and reason and reason.startswith("low confidence"):
                assert confidence < verifier.threshold
            if status == "accepted":
                assert confidence >= verifier.threshold
    unverified = [f for p in seed_paths for f in extract(load_document(p), verify=False).facts]
    assert unverified and all(f.status == "accepted" or f.reason.startswith("implausible")
                              for f in unverified), "without the verifier only plausibility holds facts"


def test_the_verifier_holds_back_some_real_candidates() -> None:
    docs = sorted((REPO / "tests" / "corpus" / "real" / "docs").glob("d-*.txt"))
    facts = [f for p in docs for f in extract(load_document(p)).facts]
    held = [f for f in facts if f.reason and f.reason.startswith("low confidence")]
    assert held, "on real text the verifier holds at least one candidate back"
    assert len(held) < len(facts), "and lets others through"


@pytest.mark.slow
def test_make_train_rebuilds_the_committed_model(tmp_path: Path) -> None:
    out = tmp_path / "verifier.json"
    done = subprocess.run([sys.executable, "-m", "tools.train_verifier", "--out", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert out.read_text(encoding="utf-8") == MODEL_PATH.read_text(encoding="utf-8"), (
        "the committed verifier is not what `make train` builds from the current rules and corpora: "
        "run `make train` and commit commune_metrics/extract/models/verifier.json")


def test_first_sight_candidates_are_dev_documents_recorded_at_a_commit() -> None:
    """The calibration set (tools/first_sight.py) holds only `dev` documents, each recorded at
    one commit of this repository, with facts the current model can read."""
    from commune_metrics.core.model import Fact
    from tools.real_corpus import ROOT as real
    from tools.real_corpus import read_rows

    split = {r["doc"]: r["split"] for r in read_rows(real / "sources.jsonl")}
    rows = read_rows(real / "first_sight.jsonl")
    assert len(rows) > 100
    commits: dict[str, set[str]] = {}
    for r in rows:
        assert split.get(r["doc"]) == "dev", f"{r['doc']}: first-sight candidates of a non-dev document"
        commits.setdefault(r["doc"], set()).add(r["commit"])
        Fact(**{k: v for k, v in r["fact"].items() if k in Fact.__dataclass_fields__})
    assert all(len(c) == 1 for c in commits.values()), "a document recorded at two commits"
    shallow = subprocess.run(["git", "rev-parse", "--is-shallow-repository"], cwd=REPO, capture_output=True,
                             text=True).stdout.strip()
    if shallow == "false":  # a shallow clone lacks the history to look the commits up in
        known = subprocess.run(["git", "cat-file", "--batch-check"], cwd=REPO, capture_output=True, text=True,
                               input="".join(c + "\n" for cs in commits.values() for c in cs)).stdout
        assert "missing" not in known, "a first-sight commit is not in this repository's history"


def test_a_number_read_twice_or_a_metric_read_with_two_values_is_marked() -> None:
    """The verifier sees the other candidates of the document: the same written number proposed
    for two metrics, or one metric proposed with two values, are features of each candidate."""
    from commune_metrics.core.model import Fact
    from commune_metrics.extract.verifier import Context, features

    text = "Tiếp nhận 120 hồ sơ, giải quyết 100 hồ sơ. Sau đó tiếp nhận 90 hồ sơ."

    def fact(metric: str, value: float, at: int, start: int, end: int) -> Fact:
        return Fact(metric, "actual", value, "count", "eq", start, end, text[start:end],
                    "metrics.yaml:m:left", 0.9, value_start=at)

    end = text.index(".") + 1
    received = fact("dossiers.received", 120, text.index("120"), 0, end)
    resolved = fact("dossiers.resolved", 100, text.index("100"), 0, end)
    twin = fact("dossiers.resolved", 120, text.index("120"), 0, end)
    later = fact("dossiers.received", 90, text.index("90"), end + 1, len(text))
    ctx = Context(text, "commune", "report", (received, resolved, twin, later))
    alone = Context(text, "commune", "report", (resolved,))
    assert features(received, ctx)["same_value=1"] == 1.0  # 120 is also read as resolved
    assert features(resolved, ctx)["same_value=0"] == 1.0
    assert features(received, ctx)["other_values=1"] == 1.0  # received is 120 and 90
    assert features(resolved, ctx)["other_values=1"] == 1.0  # resolved is 100 and 120
    assert features(resolved, alone)["other_values=0"] == 1.0
    assert features(resolved, ctx)["in_sentence=1"] == 1.0 and features(later, ctx)["in_sentence=0"] == 1.0
    assert features(resolved, ctx)["value_index=1"] == 1.0  # the second number of its sentence


@pytest.mark.parametrize("written, counted", [("7.486", "hồ"), ("19,5", "%"), ("1.250.000", "đồng"),
                                              ("12", "máy")])
def test_the_words_after_a_value_start_after_all_its_digits(written: str, counted: str) -> None:
    """The counted noun after "7.486" is "hồ sơ", not the digit group "486": a digit group is no
    word, and as a feature it only memorized the documents trained on."""
    from commune_metrics.core.model import Fact
    from commune_metrics.extract.verifier import Context, features

    unit = {"%": "percent", "đồng": "vnd"}.get(counted, "count")
    noun = {"hồ": "hồ sơ", "%": "%", "đồng": "đồng", "máy": "máy tính"}[counted]
    text = f"Năm nay xã tiếp nhận {written}{'' if counted == '%' else ' '}{noun} trong kỳ."
    fact = Fact("dossiers.received", "actual", 1.0, unit, "eq", 0, len(text), text,
                "metrics.yaml:m:left", 0.9, value_start=text.index(written))
    got = features(fact, Context(text, "commune", "report", (fact,)))
    assert got[f"after1={counted}"] == 1.0
    assert not any(k.startswith("after=") and k[6:].isdigit() for k in got)
