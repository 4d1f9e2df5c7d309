"""The learned verifier: for every candidate the rules propose, the probability that it is right
(its metric, kind and value are what the document says of that figure).

The rules keep proposing (high recall); this model, trained by `make train` (tools/train_verifier.py)
on candidates of the generated corpora and the real `dev` split, decides which are facts. Below
the threshold a candidate is held for review, never loaded into `facts`. Calibration and threshold
come from `dev`'s first-sight candidates: what the rules proposed for each blind batch before they
were tuned on it, which is what new text looks like.

The model is a logistic regression stored as JSON (feature -> weight, intercept, threshold) in
extract/models/verifier.json: it loads offline with no ML library at run time, scores a
candidate in microseconds, and is part of the code version that keys cached extractions.
The same `features()` serves training and scoring, so they cannot drift apart.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import regex

from commune_metrics.core.model import Fact

MODEL_PATH = Path(__file__).resolve().parent / "models" / "verifier.json"
_WORD = regex.compile(r"[\p{L}]+|%|\d+")
_DIGITS = regex.compile(r"\d+")
# the written value itself ("7.486", "19,5"), so that the words after it start after all its digits
_WRITTEN = regex.compile(r"\d+(?:[.,]\d+)*")
# Phrases near a value that say whose figure it is or what kind, in any metric's sentence: a change
# against another period, a part of a total, an average, a higher level's or the sub-units' figure.
# Unlike the words around the value (which memorize the documents trained on), these carry to new
# text: on first-sight candidates they, with the peers and the position, raise F0.5 0.663 -> 0.691
_NEAR = ("so với", "tăng", "giảm", "cùng kỳ", "trong đó", "toàn tỉnh", "toàn huyện", "các xã",
         "bình quân", "trung bình", "mỗi")


@dataclass(frozen=True)
class Context:
    """What the verifier knows of a candidate besides the fact itself."""

    text: str  # the document's normalized text
    level: str | None  # the reporting unit's level
    doc_type: str
    # every candidate of the document: a figure the rules also read as something else, or a metric
    # the rules read with several values, is less sure than one read once
    candidates: tuple[Fact, ...] = ()

    @cached_property
    def peers(self) -> dict[int, tuple[int, int, int]]:
        """For each candidate (by id): how many others read the same written number, how many
        others give its metric and kind another value, how many others come from its sentence."""
        def written(f: Fact) -> tuple:
            return f.char_start, f.value_start, f.value

        by_value = Counter(written(f) for f in self.candidates)
        by_sentence = Counter(f.char_start for f in self.candidates)
        by_metric: dict[tuple, set] = {}
        for f in self.candidates:
            by_metric.setdefault((f.metric, f.kind), set()).add(f.value)
        return {id(f): (by_value[written(f)] - 1, len(by_metric[(f.metric, f.kind)]) - 1,
                        by_sentence[f.char_start] - 1) for f in self.candidates}


def _bucket(x: float, edges: tuple[float, ...]) -> int:
    return sum(x >= e for e in edges)


def features(fact: Fact, ctx: Context, words: bool = True) -> dict[str, float]:
    """Sparse features of one candidate: how the rules found it, what kind of number it is,
    whose it is, what else the rules read in its document and sentence, where the value stands,
    and (with `words`) the words around the value."""
    parts = fact.extractor.split(":")
    where = parts[2] if len(parts) > 2 else "?"
    role = "whole" if "whole" in parts[3:] else "part"
    table = "table" in parts
    f: dict[str, float] = {
        "bias": 1.0,
        f"metric={fact.metric}": 1.0,
        f"where={where}": 1.0,
        f"metric|where={fact.metric}|{where}": 1.0,
        f"role={role}": 1.0,
        f"table={table}": 1.0,
        f"kind={fact.kind}": 1.0,
        f"doc_type={ctx.doc_type}": 1.0,
        f"kind|doc_type={fact.kind}|{ctx.doc_type}": 1.0,
        f"scope={fact.scope}": 1.0,
        f"level={ctx.level}": 1.0,
        f"unit={fact.unit}": 1.0,
        f"qualifier={fact.qualifier}": 1.0,
        "rule_confidence": fact.confidence,
        f"magnitude={fact.unit}|{_bucket(abs(fact.value), (1, 2, 10, 100, 1000, 10000, 100000))}": 1.0,
        f"round={fact.value == int(fact.value)}": 1.0,
        f"sentence_len={_bucket(len(fact.evidence), (80, 160, 320, 640))}": 1.0,
        f"numbers_in_sentence={_bucket(len(_DIGITS.findall(fact.evidence)), (2, 4, 8, 16))}": 1.0,
    }
    peers = ctx.peers.get(id(fact))
    if peers is not None:
        same_value, other_values, in_sentence = peers
        f[f"same_value={min(same_value, 2)}"] = 1.0
        f[f"other_values={min(other_values, 3)}"] = 1.0
        f[f"in_sentence={_bucket(in_sentence, (1, 3, 6))}"] = 1.0
    at = fact.value_start
    if at is not None and fact.char_start <= at <= len(ctx.text):
        lead = ctx.text[fact.char_start:at]
        f[f"value_index={min(len(_DIGITS.findall(lead)), 3)}"] = 1.0
        f[f"lead_len={_bucket(len(lead), (20, 60, 120, 240))}"] = 1.0
        f[f"doc_position={_bucket(at / max(1, len(ctx.text)), (0.1, 0.3, 0.6))}"] = 1.0
        f[f"in_parentheses={lead.count('(') > lead.count(')')}"] = 1.0
        window = ctx.text[max(fact.char_start, at - 50): min(fact.char_end, at + 50)].lower()
        for w in _NEAR:
            if w in window:
                f[f"near={w}"] = 1.0
    if words and at is not None and 0 <= at <= len(ctx.text):
        before = _WORD.findall(ctx.text[max(fact.char_start, at - 40) : at].lower())[-3:]
        written = _WRITTEN.match(ctx.text, at)
        end = written.end() if written else at
        after = _WORD.findall(ctx.text[end : min(fact.char_end, end + 60)].lower())[:4]
        for w in before:
            f[f"before={w}"] = 1.0
        for w in after:
            f[f"after={w}"] = 1.0
        if before:
            f[f"before1={before[-1]}"] = 1.0
            f[f"metric|before1={fact.metric}|{before[-1]}"] = 1.0
        if len(after) > 1:
            f[f"after1={after[0]}"] = 1.0
    return f


@dataclass(frozen=True)
class Verifier:
    weights: dict[str, float]
    intercept: float
    threshold: float  # below it a candidate is held for review
    version: str
    # Platt scaling fitted on out-of-fold scores of first-sight candidates (documents the model
    # never saw, proposed by rules not yet tuned on them), so that a 0.9 aims at right 9 times in 10
    # on new text, not on the documents it was trained on
    scale: float = 1.0
    shift: float = 0.0
    words: bool = False

    def probability(self, fact: Fact, ctx: Context) -> float:
        z = self.intercept + sum(self.weights.get(k, 0.0) * v
                                 for k, v in features(fact, ctx, self.words).items())
        z = self.scale * z + self.shift
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def apply(self, facts: list[Fact], ctx: Context) -> None:
        """Set each candidate's calibrated confidence; hold the unsure ones for review."""
        for fact in facts:
            p = round(self.probability(fact, ctx), 4)
            fact.confidence = p
            if fact.status == "accepted" and p < self.threshold:
                fact.status = "review"
                fact.reason = f"low confidence: {p:.2f} < {self.threshold:.2f} (verifier {self.version})"


def load_verifier(path: Path = MODEL_PATH) -> Verifier | None:
    """The shipped model, or None when none is installed (the rules alone decide)."""
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    calibration = data.get("calibration", {})
    return Verifier(data["weights"], float(data["intercept"]), float(data["threshold"]), data["version"],
                    float(calibration.get("scale", 1.0)), float(calibration.get("shift", 0.0)),
                    bool(data.get("training", {}).get("words", False)))


@lru_cache(maxsize=1)
def default_verifier() -> Verifier | None:
    return load_verifier()
