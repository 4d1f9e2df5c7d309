"""Record what the rules proposed for real documents on first sight, before any rule was tuned on them.

The verifier's confidence must mean what it says on text nobody has tuned the rules on. Its
out-of-fold scores on `dev` do not show that: the rules were tuned on those documents, so on them
the candidates are cleaner than on new text (first-sight precision of new batches was 0.43-0.83
while `dev` out of fold was about 0.8). Each batch of blind-labelled `dev` documents was scored once
at a known commit before anything was tuned on it. This tool checks out that commit in a temporary
worktree, runs its extraction (rules only, verifier off) on the batch's documents and appends the
candidates to tests/corpus/real/first_sight.jsonl. `make train` fits the calibration and chooses
the threshold on them (tools/train_verifier.py); the `test` split is never recorded.

    python -m tools.first_sight COMMIT LABELLER [LABELLER ...]
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tools.real_corpus import ROOT as REAL
from tools.real_corpus import read_rows

ROOT = Path(__file__).resolve().parent.parent
OUT = REAL / "first_sight.jsonl"

# Run inside the old worktree: its own package, its own rules.
_EXTRACT = r"""
import dataclasses, json, sys
from pathlib import Path
from commune_metrics.readers import load_document
from commune_metrics.extract.extractor import extract
import commune_metrics
assert Path(commune_metrics.__file__).resolve().is_relative_to(Path.cwd().resolve()), commune_metrics.__file__
for path in sys.argv[1:]:
    doc = load_document(Path(path))
    ex = extract(doc, verify=False)
    for f in ex.facts:
        row = {"doc": Path(path).name, "level": ex.meta.level, "doc_type": ex.meta.doc_type,
               "fact": dataclasses.asdict(f)}
        print(json.dumps(row, ensure_ascii=False))
"""


def _docs_of(labellers: list[str]) -> list[Path]:
    docs = []
    for r in read_rows(REAL / "sources.jsonl"):
        if r["labeller"] in labellers:
            if r["split"] != "dev":
                raise SystemExit(f"{r['doc']} is in {r['split']}: only dev documents are recorded")
            docs.append(REAL / "docs" / r["doc"])
    return sorted(docs)


def record(commit: str, labellers: list[str]) -> int:
    docs = _docs_of(labellers)
    if not docs:
        raise SystemExit(f"no dev documents of labellers {labellers}")
    full = subprocess.run(["git", "rev-parse", commit], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(tree), full], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run([sys.executable, "-c", _EXTRACT, *map(str, docs)], cwd=tree, check=True,
                                 capture_output=True, text=True, env=env).stdout
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=True)
    rows = [json.loads(line) for line in out.splitlines() if line.strip()]
    names = {d.name for d in docs}
    kept = [r for r in read_rows(OUT) if r["doc"] not in names] if OUT.exists() else []
    for r in rows:
        r["commit"] = full
    all_rows = sorted(kept + rows, key=lambda r: (r["doc"], r["fact"]["char_start"], r["fact"]["metric"],
                                                   r["fact"]["value"]))
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in all_rows),
                   encoding="utf-8")
    return len(rows)


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    n = record(sys.argv[1], sys.argv[2:])
    print(f"{n} first-sight candidates of {', '.join(sys.argv[2:])} at {sys.argv[1]} -> {OUT}")


if __name__ == "__main__":
    main()
