"""Measure the document-identity thresholds (commune_metrics.core.similarity).

    python -m tools.identity_threshold [--generated 120] [--json]

Positive pairs (must match): corrected re-sends built from every document that has a subject,
the way clerks correct a report: the subject re-typed with a typo fixed, a word or the place
added or dropped, a date written another way, a "(bổ sung)" tag, two of these at once; and the
body with a few figures changed, a sentence added, a paragraph dropped.
Negative pairs (must not match): every pair of two different documents of the same type
among the real seeds (../shared/seeds, when present), the 56 public documents of
tests/corpus/real, the bundled samples and generated reports. Generated reports that share a
subject template (the same kind of report of two communes) are left out of the subject
negatives: from one commune in one month such a pair is a re-send, which is what the
threshold must accept. Numbers are printed for docs/identity.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from commune_metrics.core.similarity import (
    BODY_THRESHOLD,
    SUBJECT_THRESHOLD,
    body_similarity,
    subject_similarity,
    subject_words,
    text_signature,
)
from commune_metrics.extract.doc_identity import detect_subject
from commune_metrics.extract.metadata import detect_doc_type
from commune_metrics.readers import load_document

REPO = Path(__file__).resolve().parent.parent
# Pairs of different units whose documents are the same kind of report: never compared (the unit
# is part of the identity), and from one unit in one period they would be a re-send. Listed
# apart, with the reason, rather than counted as different documents.
SAME_KIND_OTHER_UNIT = {
    frozenset({"000", "002"}): "two communes' reports on carrying out Plan 02-KH/BCĐTW",
    frozenset({"000", "003"}): "two communes' reports on carrying out Plan 02-KH/BCĐTW",
    frozenset({"002", "003"}): "two communes' reports on carrying out Plan 02-KH/BCĐTW",
    frozenset(
        {"b-tinh-quang-ngai-kh38-cds.txt", "b-xa-tinh-tra-kh-cds-2024.txt"}
    ): "a commune's plan repeating the subject (and much of the text) of its province's plan",
}


def _same_kind(a: Doc, b: Doc) -> str | None:
    key = {a.name[:3] if a.source == "seed" else a.name, b.name[:3] if b.source == "seed" else b.name}
    return SAME_KIND_OTHER_UNIT.get(frozenset(key))


@dataclass
class Doc:
    name: str
    source: str
    doc_type: str
    subject: str | None
    text: str
    template: str | None = None  # generated: the subject with place and date folded away


def _template(subject: str) -> str:
    """The generator's subject template: place and period words folded away."""
    period_words = {
        "tháng",
        "quý",
        "năm",
        "giai",
        "đoạn",
        "từ",
        "ngày",
        "đến",
        "đầu",
        "cuối",
        "i",
        "ii",
        "iii",
        "iv",
    }
    return " ".join(w for w in subject_words(subject) if not w.isdigit() and w not in period_words)


def _load(paths: list[Path], source: str, generated: bool = False) -> list[Doc]:
    docs = []
    for path in paths:
        try:
            d = load_document(path)
        except Exception:  # noqa: BLE001 - a corpus file that does not read is not a pair
            continue
        subject = detect_subject(d.text)
        docs.append(
            Doc(
                path.name,
                source,
                detect_doc_type(d.text),
                subject,
                d.text,
                _template(subject) if generated and subject else None,
            )
        )
    return docs


def corpus(generated: int) -> list[Doc]:
    docs: list[Doc] = []
    seeds = REPO.parent / "shared" / "seeds"
    if seeds.is_dir():
        docs += _load(sorted(seeds.glob("*.txt")), "seed")
    docs += _load(sorted((REPO / "tests" / "corpus" / "real" / "docs").glob("*.txt")), "real")
    docs += _load(
        sorted(p for p in (REPO / "data" / "raw" / "samples").iterdir() if p.is_file()), "sample", True
    )
    if generated:
        from tools.samples.generator import generate_corpus

        out = Path(tempfile.mkdtemp(prefix="cm-identity-"))
        generate_corpus(out, n=generated, seed=1313, phrases="heldout", formats=("txt",))
        docs += _load(sorted(out.glob("*.txt")), "generated", True)
    return docs


# -- re-sends -------------------------------------------------------------------------------

_TONES = str.maketrans("àáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụ", "aaaaaeeeeeiiiiiooooouuuuu")


def subject_resends(subject: str, rng: random.Random) -> list[tuple[str, str]]:
    words = subject.split()
    out: list[tuple[str, str]] = [("identical", subject), ("upper case", subject.upper())]
    lettered = [k for k, w in enumerate(words) if w.isalpha()]  # a typo in a number is another number
    if len(words) > 3 and lettered:
        i = rng.choice(lettered)
        typo = words[i].translate(_TONES) if words[i].translate(_TONES) != words[i] else words[i][:-1]
        out.append(("typo in one word", " ".join(words[:i] + [typo] + words[i + 1 :])))
        j = rng.randrange(1, len(words))
        out.append(("one word dropped", " ".join(words[:j] + words[j + 1 :])))
        out.append(("one word added", " ".join(words[:j] + ["các"] + words[j:])))
        out.append(("typo + tag", " ".join(words[:i] + [typo] + words[i + 1 :]) + " (bổ sung)"))
    out.append(("tag (bổ sung)", subject + " (bổ sung)"))
    out.append(("tag (thay thế)", subject + " (thay thế báo cáo đã gửi)"))
    dated = re.sub(
        r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", lambda m: f"{int(m[1]):02d}/{int(m[2]):02d}/{m[3]}", subject
    )
    if dated != subject:
        out.append(("date re-typed", dated))
    place = re.search(r"\s(?:trên địa bàn )?(?:xã|phường) [^,]+$", subject)
    if place:
        out.append(("place dropped", subject[: place.start()]))
    else:
        out.append(("place added", subject + " trên địa bàn xã Tân Thành"))
    return out


def body_resends(text: str, rng: random.Random) -> list[tuple[str, str]]:
    numbers = list(re.finditer(r"\b\d{2,}\b", text))
    out = []
    if numbers:
        changed = text
        for m in rng.sample(numbers, min(3, len(numbers))):
            changed = (
                changed[: m.start()]
                + str(int(m.group()) + 1).rjust(len(m.group()), "0")[-len(m.group()) :]
                + changed[m.end() :]
            )
        out.append(("three figures changed", changed))
    lines = text.splitlines()
    out.append(
        (
            "a sentence added",
            text + "\nUBND xã sẽ tiếp tục theo dõi, đôn đốc và báo cáo bổ sung khi có số liệu.",
        )
    )
    if len(lines) > 10:
        k = rng.randrange(len(lines) // 10, len(lines) // 10 * 9)
        out.append(("a tenth of the lines dropped", "\n".join(lines[:k] + lines[k + len(lines) // 10 :])))
    return out


def _stats(values: list[float]) -> dict:
    values = sorted(values)
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min": round(values[0], 3),
        "max": round(values[-1], 3),
        "p01": round(values[len(values) // 100], 3),
        "p99": round(values[(len(values) * 99) // 100], 3),
    }


def measure(docs: list[Doc]) -> dict:
    rng = random.Random(13)
    pos_subject: list[tuple[float, str, str]] = []
    pos_body: list[tuple[float, str, str]] = []
    signatures = {d.name + d.source: text_signature(d.text) for d in docs}
    for d in docs:
        if d.subject:
            for how, variant in subject_resends(d.subject, rng):
                pos_subject.append((subject_similarity(d.subject, variant) or 0.0, how, d.name))
        for how, variant in body_resends(d.text, rng):
            pos_body.append(
                (body_similarity(signatures[d.name + d.source], text_signature(variant)) or 0.0, how, d.name)
            )
    neg_subject: list[tuple[float, str, str]] = []
    neg_body: list[tuple[float, str, str]] = []
    same_kind: list[tuple[float, float, str, str, str]] = []
    for a, b in itertools.combinations(docs, 2):
        if a.doc_type != b.doc_type:
            continue
        if a.text == b.text:
            continue
        why = _same_kind(a, b)
        if why:
            same_kind.append(
                (
                    round(subject_similarity(a.subject, b.subject) or 0, 3),
                    round(
                        body_similarity(signatures[a.name + a.source], signatures[b.name + b.source]) or 0, 3
                    ),
                    a.name,
                    b.name,
                    why,
                )
            )
            continue
        if a.subject and b.subject and not (a.template and a.template == b.template):
            neg_subject.append((subject_similarity(a.subject, b.subject) or 0.0, a.name, b.name))
        neg_body.append(
            (
                body_similarity(signatures[a.name + a.source], signatures[b.name + b.source]) or 0.0,
                a.name,
                b.name,
            )
        )
    seeds = {d.name[:3]: d for d in docs if d.source == "seed"}
    same_month = None
    if "000" in seeds and "004" in seeds:
        same_month = {
            "subject": round(subject_similarity(seeds["000"].subject, seeds["004"].subject) or 0, 3),
            "body": round(
                body_similarity(
                    signatures[seeds["000"].name + "seed"], signatures[seeds["004"].name + "seed"]
                )
                or 0,
                3,
            ),
        }
    return {
        "documents": {
            s: sum(1 for d in docs if d.source == s) for s in ("seed", "real", "sample", "generated")
        },
        "with_subject": sum(1 for d in docs if d.subject),
        "subject": {
            "threshold": SUBJECT_THRESHOLD,
            "resends": _stats([x for x, *_ in pos_subject]),
            "different": _stats([x for x, *_ in neg_subject]),
            "resends_below": [p for p in pos_subject if p[0] < SUBJECT_THRESHOLD][:10],
            "different_at_or_above": sorted(n for n in neg_subject if n[0] >= SUBJECT_THRESHOLD)[-10:],
            "lowest_resends": sorted(pos_subject)[:5],
            "highest_different": sorted(neg_subject)[-12:],
        },
        "body": {
            "threshold": BODY_THRESHOLD,
            "resends": _stats([x for x, *_ in pos_body]),
            "different": _stats([x for x, *_ in neg_body]),
            "resends_below": [p for p in pos_body if p[0] < BODY_THRESHOLD][:10],
            "different_at_or_above": sorted(n for n in neg_body if n[0] >= BODY_THRESHOLD)[-10:],
            "lowest_resends": sorted(pos_body)[:5],
            "highest_different": sorted(neg_body)[-5:],
        },
        "seeds_000_004_same_commune_and_month": same_month,
        "same_kind_other_unit (subject, body)": same_kind,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.identity_threshold", description=__doc__)
    parser.add_argument("--generated", type=int, default=120, help="generated reports added to the corpus")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = measure(corpus(args.generated))
    print(json.dumps(report, ensure_ascii=False, indent=None if args.json else 1))
    ok = (
        not report["subject"]["resends_below"]
        and not report["subject"]["different_at_or_above"]
        and not report["body"]["resends_below"]
        and not report["body"]["different_at_or_above"]
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
