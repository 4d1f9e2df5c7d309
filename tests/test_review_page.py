"""The review page (`commune-metrics review`) in real headless Chromium through Playwright,
driving Debian's /usr/bin/chromium (no browser download): open a commune, correct a fact with
the keyboard, reject another, and find both in `facts`, in `compare` and in the report.
Screenshots go to $CM_TEST_ARTIFACTS (default: test-artifacts/review/, gitignored).

Security checks talk HTTP directly: CSRF token, Host header, escaping, CSP, no remote resource.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from commune_metrics.core.config import DATA_DIR
from commune_metrics.warehouse import connect_readonly
from tests.conftest import REPO

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("CM_TEST_ARTIFACTS", REPO / "test-artifacts")) / "review"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "CM_SETTLE_SECONDS": "0"}
pytestmark = pytest.mark.slow


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, "-m", "commune_metrics", *args], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review")
    cli("ingest", str(DATA_DIR / "raw" / "samples"), "--keep-inbox", "--warehouse", str(root / "w.duckdb"),
        "--archive", str(root / "raw"), "--workers", "1")
    return root / "w.duckdb"


@pytest.fixture()
def server(sample_warehouse: Path) -> Iterator[str]:
    """`commune-metrics review` as its own process, stopped (and waited for) after the test."""
    proc = subprocess.Popen([sys.executable, "-m", "commune_metrics", "review", "--warehouse",
                             str(sample_warehouse), "--port", "0", "--who", "Lan"],
                            cwd=REPO, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert match, (line, proc.stderr.read() if proc.poll() is not None else "")
        yield match.group(0)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        assert proc.returncode is not None


def fact_row(warehouse: Path, metric: str) -> dict:
    con = connect_readonly(warehouse)
    try:
        cur = con.execute(
            """SELECT fact_id, value, original_value, corrected, rejected, corrected_by, corrected_why
               FROM facts WHERE commune = 'Mèo Vạc' AND original_metric = ?""", [metric])
        names = [d[0] for d in cur.description]
        (row,) = cur.fetchall()
    finally:
        con.close()
    return dict(zip(names, row, strict=True))


def test_correct_and_reject_in_chromium_show_in_facts_compare_and_report(
    server: str, sample_warehouse: Path, tmp_path: Path
) -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and no Chromium at {CHROMIUM}")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    before = cli("compare", "--metric", "computers.antivirus_pct", "-w", str(sample_warehouse)).stdout
    assert re.search(r"Mèo Vạc.*42\.5%\*.*derived 17/40", before)

    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda r: requests.append(r.url))
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            page.goto(server)
            page.wait_for_selector("body[data-ready='1']")
            page.screenshot(path=str(ARTIFACTS / "1-index.png"), full_page=True)
            page.click("a.commune-link:text('Mèo Vạc')")
            page.wait_for_selector("body.commune[data-ready='1']")
            assert page.locator("tr.fact").count() == 8
            page.screenshot(path=str(ARTIFACTS / "2-commune.png"), full_page=True)

            # Keyboard only: j moves down to the antivirus count, e opens the form, Enter saves.
            page.keyboard.press("j")
            assert page.locator("tr.fact.current").get_attribute("data-metric") == "computers.antivirus"
            page.keyboard.press("e")
            page.fill("#f-value", "18")
            page.fill("#f-why", "đối chiếu sổ thiết bị")
            page.keyboard.press("Enter")
            page.wait_for_selector("tr.fact.corrected[data-metric='computers.antivirus']")
            assert "Đã lưu" in page.inner_text("#flash")
            # After a save the selection moves on; go to the trained staff and reject it with r.
            page.locator("tr.fact[data-metric='staff.trained']").click()
            page.keyboard.press("r")
            page.fill("#r-why", "số của kỳ trước")
            page.keyboard.press("Enter")
            page.wait_for_selector("tr.fact.rejected[data-metric='staff.trained']")
            row = page.locator("tr.fact[data-metric='staff.trained']")
            assert "Lan: số của kỳ trước" in row.inner_text()
            page.screenshot(path=str(ARTIFACTS / "3-corrected-and-rejected.png"), full_page=True)

            # The document: the evidence marked in its text and on the PDF page image.
            with page.expect_response(lambda r: "/page.png" in r.url) as image:
                page.locator("tr.fact[data-metric='computers.total'] a").first.click()
            assert image.value.status == 200 and image.value.headers["content-type"] == "image/png"
            page.wait_for_selector("body.document[data-ready='1']")
            assert page.locator("mark.ev.current").count() >= 1
            assert "40 máy tính" in page.locator("mark.ev.current").first.inner_text()
            page.locator("#page-image").scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "4-document-page-image.png"), full_page=False)
        finally:
            browser.close()

    assert errors == []
    elsewhere = [u for u in requests if not u.startswith(server)]
    assert requests and not elsewhere, elsewhere  # no remote resource, ever
    for name in ("1-index.png", "2-commune.png", "3-corrected-and-rejected.png", "4-document-page-image.png"):
        shot = ARTIFACTS / name
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

    # facts: the corrected value with what was read, who and why; the rejection visible.
    corrected = fact_row(sample_warehouse, "computers.antivirus")
    assert (corrected["value"], corrected["original_value"], corrected["corrected"]) == (18.0, 17.0, True)
    assert (corrected["corrected_by"], corrected["corrected_why"]) == ("Lan", "đối chiếu sổ thiết bị")
    rejected = fact_row(sample_warehouse, "staff.trained")
    assert (rejected["value"], rejected["original_value"], rejected["rejected"]) == (None, 11.0, True)

    # compare: the derived share follows the correction; the rejected count leaves a blank.
    after = cli("compare", "--metric", "computers.antivirus_pct", "--worst", "3",
                "-w", str(sample_warehouse)).stdout
    assert re.search(r"Mèo Vạc.*45\.0%\*.*derived 18/40", after), after
    trained = cli("compare", "--metric", "staff.trained_pct", "-w", str(sample_warehouse)).stdout
    assert re.search(r"Mèo Vạc .*│ +– │", trained), trained

    # the report shows the correction and the rejection too.
    html = tmp_path / "report.html"
    cli("report", "--out", str(html), "-w", str(sample_warehouse))
    text = html.read_text(encoding="utf-8")
    assert "đối chiếu sổ thiết bị" in text and "số của kỳ trước" in text


def _request(url: str, *, method: str = "GET", body: dict | None = None, headers: dict | None = None
             ) -> tuple[int, dict, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def test_writes_need_the_csrf_token_and_the_right_host(server: str, sample_warehouse: Path) -> None:
    status, headers, body = _request(server)
    assert status == 200
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    token = re.search(rb'name="csrf-token" content="([^"]+)"', body).group(1).decode()
    fid = fact_row(sample_warehouse, "dossiers.received")["fact_id"]
    action = {"fact_id": fid, "action": "reject", "why": "thử"}
    json_headers = {"Content-Type": "application/json"}
    assert _request(server + "api/action", method="POST", body=action, headers=json_headers)[0] == 403
    wrong = {**json_headers, "X-CSRF-Token": "x" + token}
    assert _request(server + "api/action", method="POST", body=action, headers=wrong)[0] == 403
    good = {**json_headers, "X-CSRF-Token": token}
    foreign = {**good, "Origin": "http://evil.example"}
    assert _request(server + "api/action", method="POST", body=action, headers=foreign)[0] == 403
    rebound = {**good, "Host": "evil.example"}
    assert _request(server + "api/action", method="POST", body=action, headers=rebound)[0] == 403
    assert _request(server, headers={"Host": "evil.example"})[0] == 421
    assert fact_row(sample_warehouse, "dossiers.received")["rejected"] is False  # nothing got through

    # a bad value is refused with a reason; a good token confirms
    bad = {"fact_id": fid, "action": "correct", "value": "abc", "why": "x"}
    status, _, body = _request(server + "api/action", method="POST", body=bad, headers=good)
    assert status == 422 and b"number" in body
    status, _, body = _request(server + "api/action", method="POST",
                               body={"fact_id": fid, "action": "confirm"}, headers=good)
    assert status == 200 and json.loads(body)["status"] == "saved"
    con = connect_readonly(sample_warehouse)
    try:
        status_row = con.execute("SELECT confirmed, review_status FROM facts WHERE fact_id = ?",
                                 [fid]).fetchone()
        assert status_row == (True, "confirmed")
    finally:
        con.close()
