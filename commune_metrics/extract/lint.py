"""Rules lint: mistakes that load fine but make the rules harder to change.

- a cue listed twice in one metric, or two cues that are the same once synonyms are applied
  ("quá hạn" and "vượt thời hạn" are one group in vocabulary.yaml, so listing both is noise);
- a `not` phrase listed twice in one metric;
- a noun phrase listed twice in one noun class.

`lint_rules()` returns one line per finding (empty: clean); tests/test_rules_lint.py keeps the
shipped rules clean.
"""

from __future__ import annotations

from pathlib import Path

from commune_metrics.core.config import RULES_DIR
from commune_metrics.extract.schemas import CueItem, MetricsFile, VocabularyFile, load_rule_file


def _canonical(phrase: str, groups: dict[tuple[str, ...], int]) -> str:
    """A phrase with every synonym run replaced by its group number."""
    if phrase.startswith("re:"):
        return phrase
    words = phrase.lower().split()
    longest = max((len(k) for k in groups), default=1)
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            group = groups.get(tuple(words[i : i + n]))
            if group is not None:
                out.append(f"<syn{group}>")
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return " ".join(out)


def _cue_key(cue: str | CueItem, groups: dict[tuple[str, ...], int]) -> tuple:
    def norm(value: str | list[str] | None) -> tuple[str, ...]:
        items = [value] if isinstance(value, str) else list(value or [])
        return tuple(sorted(_canonical(p, groups) for p in items))

    if isinstance(cue, str):
        return (norm(cue), (), ())
    return (norm(cue.cue if cue.cue is not None else cue.all), norm(cue.context), norm(cue.not_))


def _show(cue: str | CueItem) -> str:
    return cue if isinstance(cue, str) else str(cue.model_dump(by_alias=True, exclude_none=True))


def lint_rules(rules_dir: Path | None = None) -> list[str]:
    base = Path(rules_dir or RULES_DIR)
    vocab = load_rule_file(base / "vocabulary.yaml", VocabularyFile)
    metrics = load_rule_file(base / "metrics.yaml", MetricsFile)
    groups = {tuple(p.lower().split()): i for i, group in enumerate(vocab.synonyms) for p in group}
    findings: list[str] = []
    for cls, phrases in vocab.nouns.items():
        seen: set[str] = set()
        for p in phrases:
            key = " ".join(p.lower().split())
            if key in seen:
                findings.append(f"vocabulary.yaml: noun class '{cls}': {p!r} is listed twice")
            seen.add(key)
    for m in metrics.metrics:
        where = f"metrics.yaml: metric '{m.code}'"
        cues: dict[tuple, str | CueItem] = {}
        for cue in m.cues:
            key = _cue_key(cue, groups)
            if key in cues:
                first = cues[key]
                same = _show(first) == _show(cue)
                findings.append(f"{where}: cue {_show(cue)!r} " + (
                    "is listed twice" if same else f"equals {_show(first)!r} once synonyms are applied"))
            else:
                cues[key] = cue
        nots: dict[str, str] = {}
        for p in m.not_:
            key = _canonical(p, groups)
            if key in nots:
                findings.append(f"{where}: not {p!r} repeats {nots[key]!r}")
            else:
                nots[key] = p
    return findings
