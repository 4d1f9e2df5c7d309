"""The SQL examples shown in README.md run against a warehouse built from the bundled sample
inbox and return rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from commune_metrics.core.config import DATA_DIR
from commune_metrics.ingest.inbox import ingest
from commune_metrics.warehouse import connect_readonly
from tests.conftest import REPO

README = REPO / "README.md"
SAMPLES = DATA_DIR / "raw" / "samples"


def examples() -> list[tuple[str, str]]:
    readme = README.read_text(encoding="utf-8")
    text = "\n".join(re.findall(r"```sql\n(.*?)```", readme, flags=re.DOTALL))
    blocks = re.split(r"^-- name: (.+)$", text, flags=re.MULTILINE)[1:]
    pairs = [(blocks[i].strip(), blocks[i + 1].strip().rstrip(";")) for i in range(0, len(blocks), 2)]
    assert len(pairs) >= 5, "README.md should show at least 5 SQL examples, each after '-- name:'"
    return pairs


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    samples = sorted(p.name for p in SAMPLES.iterdir())
    assert samples, f"no sample inbox in {SAMPLES}"
    root = tmp_path_factory.mktemp("readme")
    summary = ingest(
        [SAMPLES], warehouse=root / "w.duckdb", archive_root=root / "raw", keep_inbox=True, settle_seconds=0
    )
    assert summary.counts["loaded"] == len(samples)
    assert sorted(p.name for p in SAMPLES.iterdir()) == samples  # --keep-inbox left them in place
    return root / "w.duckdb"


@pytest.mark.parametrize(("name", "sql"), examples(), ids=[name for name, _ in examples()])
def test_readme_query_returns_rows(sample_warehouse: Path, name: str, sql: str) -> None:
    con = connect_readonly(sample_warehouse)
    try:
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    assert rows, f"README example {name!r} returned no rows on the sample inbox"
