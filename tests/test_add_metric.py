"""Adding a metric is one YAML entry (plus corpus cases): in a temporary copy of the rules, a
new metric is extracted, loaded into the warehouse, and gets its own column in `comparison`,
with no change to Python or SQL."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml

from commune_metrics.core.config import RULES_DIR

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "raw" / "samples" / "bc_ba_dinh_thang11.txt"
SENTENCE = "\nTrên địa bàn phường đã lắp đặt 14 trạm phát sóng wifi công cộng miễn phí.\n"

NEW_METRIC = {
    "code": "network.wifi_hotspots",
    "unit": "count",
    "label_vi": "Số trạm phát sóng wifi công cộng",
    "description": "public wifi hotspots installed in the commune",
    "cues": ["trạm phát sóng wifi", "điểm phát sóng wifi"],
    "comparison_column": "wifi_hotspots",
}


def _ingest(rules: Path, doc: Path, warehouse: Path, tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CM_RULES_DIR": str(rules), "CM_DATA_DIR": str(tmp / "data")}
    return subprocess.run([sys.executable, "-m", "commune_metrics", "ingest", str(doc), "--warehouse",
                           str(warehouse), "--keep-inbox"], env=env, cwd=REPO, capture_output=True,
                          text=True, timeout=300, check=False)


def test_a_metric_added_in_yaml_is_extracted_loaded_and_compared(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES_DIR, rules)
    doc = tmp_path / "report.txt"
    doc.write_text(SAMPLE.read_text(encoding="utf-8") + SENTENCE, encoding="utf-8")

    # Without the entry the figure is nobody's.
    before = _ingest(rules, doc, tmp_path / "before.duckdb", tmp_path)
    assert before.returncode == 0, before.stderr[-2000:]
    con = duckdb.connect(str(tmp_path / "before.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM facts WHERE value = 14 AND evidence LIKE '%wifi%'"
                           ).fetchone()[0] == 0
        columns = {c for (c, *_r) in con.execute("DESCRIBE comparison").fetchall()}
        assert "wifi_hotspots" not in columns
    finally:
        con.close()

    path = rules / "metrics.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["metrics"].append(NEW_METRIC)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")

    after = _ingest(rules, doc, tmp_path / "after.duckdb", tmp_path)
    assert after.returncode == 0, after.stderr[-2000:]
    con = duckdb.connect(str(tmp_path / "after.duckdb"), read_only=True)
    try:
        facts = con.execute("SELECT metric, value, commune FROM facts WHERE metric = 'network.wifi_hotspots'"
                            ).fetchall()
        assert [(m, v) for m, v, _c in facts] == [("network.wifi_hotspots", 14.0)]
        commune = facts[0][2]
        assert commune, "the sample's commune is resolved, so it can be compared"
        declared = con.execute("SELECT label_vi, comparison_column FROM metrics "
                               "WHERE code = 'network.wifi_hotspots'").fetchone()
        assert declared == (NEW_METRIC["label_vi"], "wifi_hotspots")
        row = con.execute("SELECT wifi_hotspots FROM comparison WHERE commune = ?", [commune]).fetchone()
        assert row == (14.0,)
    finally:
        con.close()
