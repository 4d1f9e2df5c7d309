"""A wheel built from the repository, installed in a fresh venv outside the checkout, finds its
rules and SQL (package data) and ingests the seeds with the same facts as the checkout.

The fresh venv gets the wheel with `--no-deps`; its third-party dependencies come from the
project's own venv through a path file (its .pth hooks, among them the editable install of
this checkout, are not run), so the test proves what the wheel ships without downloading the
dependency set again. Run from a folder outside the checkout, with no CM_* overrides.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import duckdb
import pytest

from commune_metrics.extract.extractor import extract
from commune_metrics.readers import load_document

REPO = Path(__file__).resolve().parent.parent


def _run(cmd: list[str], cwd: Path, env: dict | None = None,
         timeout: int = 600) -> subprocess.CompletedProcess:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_ingests_the_seeds_like_the_checkout(tmp_path: Path,
                                                                  seed_paths: list[Path]) -> None:
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-q", "-w", str(dist)], cwd=tmp_path)
    (wheel,) = dist.glob("commune_metrics-*.whl")

    venv = tmp_path / "venv"
    _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    _run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)], cwd=tmp_path)
    site = Path(_run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     cwd=tmp_path).stdout.strip())
    deps = sysconfig.get_paths()["purelib"]  # this venv's third-party packages
    (site / "zz_project_dependencies.pth").write_text(deps + "\n", encoding="utf-8")

    work = tmp_path / "elsewhere"
    (work / "reports").mkdir(parents=True)
    for seed in seed_paths:
        shutil.copy2(seed, work / "reports" / seed.name)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CM_") and k != "PYTHONPATH"}
    probe = "import commune_metrics.core.config as c; print(c.PACKAGE_DIR, c.DATA_DIR)"
    where = _run([str(py), "-c", probe], cwd=work, env=env).stdout.split()
    assert Path(where[0]).is_relative_to(venv), f"imported from {where[0]}, not from the installed wheel"
    assert Path(where[1]) == work / "data", "an installed wheel keeps its data where the user works"

    _run([str(venv / "bin" / "commune-metrics"), "ingest", "reports", "--keep-inbox"], cwd=work, env=env)
    warehouse = work / "data" / "warehouse" / "warehouse.duckdb"
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = {(f, m, k, round(v, 4)) for f, m, k, v in
                  con.execute("SELECT source_file, metric, kind, value FROM fact_history").fetchall()}
    finally:
        con.close()

    expected = {(p.name, f.metric, f.kind, round(f.value, 4))
                for p in seed_paths for f in extract(load_document(p)).facts}
    assert len(expected) > 40
    assert loaded == expected, json.dumps(sorted(map(str, loaded ^ expected))[:20], ensure_ascii=False)
