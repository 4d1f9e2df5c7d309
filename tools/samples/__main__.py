"""python -m tools.samples --out DIR --n N --seed S --phrases dev|heldout --formats pdf,docx,txt,scan"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tools.samples.generator import FORMATS, generate_corpus
from tools.samples.phrasebook import PHRASE_SETS


def _pages(raw: str) -> tuple[int, int]:
    low, _, high = raw.partition("-")
    pages = (int(low), int(high or low))
    if pages[0] < 1 or pages[1] < pages[0]:
        raise argparse.ArgumentTypeError(f"bad page range {raw!r}; use N or MIN-MAX")
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.samples",
                                     description="Write synthetic commune reports with their gold.")
    parser.add_argument("--out", type=Path, help="output folder (gold.jsonl goes there too)")
    parser.add_argument("--inbox", action="store_true",
                        help="rebuild the committed sample inbox data/raw/samples/ and its gold instead")
    parser.add_argument("--n", type=int, default=20, help="number of documents")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--phrases", choices=PHRASE_SETS, default="dev")
    parser.add_argument("--formats", default=",".join(FORMATS),
                        help=f"comma-separated subset of {','.join(FORMATS)}")
    parser.add_argument("--pages", "--pages-min", dest="pages", type=_pages, default=None,
                        help="pad every document to N pages, or MIN-MAX (e.g. 6-8)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes used to write files")
    parser.add_argument("--scan-dpi", type=int, default=150)
    args = parser.parse_args(argv)
    if args.inbox:
        from tools.samples.inbox import build_inbox

        print(f"wrote the sample inbox and {build_inbox()}")
        return 0
    if args.out is None:
        parser.error("--out is required (or use --inbox)")
    formats = tuple(f.strip() for f in args.formats.split(",") if f.strip())
    bad = [f for f in formats if f not in FORMATS]
    if bad or args.n < 1:
        parser.error(f"unknown formats {bad}" if bad else "--n must be at least 1")
    started = time.perf_counter()
    gold = generate_corpus(args.out, args.n, args.seed, args.phrases, formats, args.pages,
                           workers=args.workers, scan_dpi=args.scan_dpi)
    print(f"wrote {args.n} documents and {gold} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
