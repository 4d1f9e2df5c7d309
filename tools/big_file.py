"""Peak memory and time of one big TXT report, for docs/reliability.md.

    python -m tools.big_file --mb 45 --mb 9.9          # one fresh process per size

Each size is a TXT made by repeating the seed reports (../shared/seeds, else a built-in report)
up to that many MB, extracted by `process_file` in a fresh process whose models are warmed
first, so "above warm" is the document's own cost, not the models'.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
FALLBACK = ("ỦY BAN NHÂN DÂN XÃ TÂN THÀNH\nBÁO CÁO\nKết quả chuyển đổi số tháng 7 năm 2025\n"
            "Bộ phận Một cửa tiếp nhận 120 hồ sơ, trong đó 84 hồ sơ trực tuyến.\n")


def make_txt(path: Path, mb: float) -> Path:
    seeds = sorted(SEEDS.glob("*.txt"))
    text = "\n\n".join(p.read_text(encoding="utf-8") for p in seeds) if seeds else FALLBACK
    block = (text + "\n\n").encode("utf-8")
    size = int(mb * 1024 * 1024)
    data = (block * (size // len(block) + 1))[:size]
    path.write_bytes(data.decode("utf-8", "ignore").encode("utf-8"))
    return path


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def measure(path: Path) -> dict:
    """In this process: warm the models, extract `path`, report peak RSS and time."""
    from commune_metrics.ingest.parallel import warm_models
    from commune_metrics.ingest.process import process_file

    warm_models()
    warm = _rss_mb()
    started = time.perf_counter()
    result = process_file(path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    size = path.stat().st_size / 2**20
    return {"file_mb": round(size, 1), "outcome": result.status, "code": result.code,
            "facts": len(result.facts or []), "seconds": round(time.perf_counter() - started, 1),
            "warm_rss_mb": round(warm), "peak_rss_mb": round(peak), "above_warm_mb": round(peak - warm),
            "above_warm_per_file_mb": round((peak - warm) / size, 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.big_file", description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, action="append", help="file size in MB (repeatable)")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    with tempfile.TemporaryDirectory(prefix="cm-big-") as tmp:
        for mb in args.mb or [45.0]:
            path = make_txt(Path(tmp) / f"big_{mb:g}mb.txt", mb)
            out = subprocess.run([sys.executable, "-m", "tools.big_file", "--measure", str(path)],
                                 capture_output=True, text=True, check=True)
            print(out.stdout.strip().splitlines()[-1], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
