"""The analyst report as ONE self-contained HTML file: inline CSS, inline SVG charts and a few
lines of inline JavaScript for sorting. Nothing is fetched over the network.

Every string that comes from a document (commune names, file names, sentences, notes) goes
through `esc`, so a document cannot inject markup into the report.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from html import escape

from commune_metrics.report.data import (
    COMPARISON,
    FACTS,
    FLAGS,
    QUARANTINE,
    RATES,
    REPLACED,
    TARGETS,
    ReportData,
)
from commune_metrics.report.format import fmt_any, fmt_date, fmt_number
from commune_metrics.report.labels import KIND_LABELS, SCOPE_LABELS, column_label
from commune_metrics.report.svg import Bar, TargetBar, bar_chart, target_chart

UNKNOWN_COMMUNE = "Chưa xác định xã"
_QUAL_SIGN = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "approx": "~", "eq": ""}

CSS = """
body{font-family:"DejaVu Sans",Arial,sans-serif;margin:0 auto;max-width:1200px;padding:0 16px 48px;
color:#1d2433}
h1{font-size:1.5em;margin:18px 0 4px}h2{border-bottom:2px solid #2f6fb3;padding-bottom:4px;margin-top:36px}
h3{margin:24px 0 6px}nav a{margin-right:14px}.muted{color:#667}
table{border-collapse:collapse;width:100%;font-size:13px;margin:8px 0}
th,td{border:1px solid #ccd3dd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#eef3f9}td.num{text-align:right;white-space:nowrap}
table.sortable th{cursor:pointer;user-select:none}
table.sortable th[aria-sort=ascending]::after{content:" ▲"}
table.sortable th[aria-sort=descending]::after{content:" ▼"}
.chart{display:block;margin:10px 0 18px;font-size:12px}.chart .ttl{font-weight:bold;font-size:14px}
.chart .bar{fill:#2f6fb3}.chart .met{fill:#2e8b57}.chart .miss{fill:#c0392b}
.chart .tick{stroke:#111;stroke-width:2}
.chart .axis{stroke:#999}.chart .note{fill:#777;font-style:italic}
.chart a text{fill:#1f4f82;text-decoration:underline}
.flag{border-left:4px solid #c0392b;background:#fdf3f2;padding:6px 10px;margin:10px 0}
.flag.warning{border-color:#d68910;background:#fef9e7}
blockquote{margin:4px 0 4px 12px;padding:2px 8px;border-left:3px solid #bbb;color:#333;font-style:italic}
.evidence li{margin:4px 0}.evidence li:target{background:#fff3b0}
.rejected{text-decoration:line-through;color:#999}.corrected{color:#7d3c98}
.ok{color:#2e8b57;font-weight:bold}.bad{color:#c0392b;font-weight:bold}
td.blank{color:#889;text-align:center}.derived{color:#7d3c98;font-weight:bold}
"""

SORT_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  var heads = table.tHead.rows[0].cells;
  Array.prototype.forEach.call(heads, function (th, col) {
    th.addEventListener('click', function () {
      var asc = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(heads, function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[col].getAttribute('data-v') || '', y = b.cells[col].getAttribute('data-v') || '';
        if (x === '' || y === '') { return (x === '') - (y === ''); }
        var nx = Number(x), ny = Number(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y, 'vi');
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
document.body.setAttribute('data-ready', '1');
"""


def esc(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def commune_anchor(commune_key: str | None) -> str:
    key = commune_key or "unknown"
    return "c-" + hashlib.md5(key.encode("utf-8")).hexdigest()[:10]


def _sort_value(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | float):
        return repr(float(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _td(value: object, text: str | None = None, numeric: bool | None = None) -> str:
    numeric = isinstance(value, int | float) and not isinstance(value, bool) if numeric is None else numeric
    cls = ' class="num"' if numeric else ""
    body = esc(fmt_any(value)) if text is None else text  # text is already-escaped markup
    return f'<td{cls} data-v="{esc(_sort_value(value))}">{body}</td>'


def _unit_suffix(unit: str | None) -> str:
    return {"percent": "%", "vnd": " đồng"}.get(unit or "", "")


def _figure(value: float | None, qualifier: str | None, unit: str | None) -> str:
    if value is None:
        return ""
    sign = _QUAL_SIGN.get(qualifier or "eq", "")
    return f"{sign}{fmt_number(value)}{_unit_suffix(unit)}"


def _commune_title(name: str | None, province: str | None) -> str:
    if not name:
        return UNKNOWN_COMMUNE
    return f"{name} ({province})" if province else name


def _chart_labels(rows: list[dict]) -> dict[str, str]:
    """Commune label for charts; the province is added only where names repeat."""
    counts: dict[str, int] = defaultdict(int)
    for r in rows:
        counts[r["commune"] or ""] += 1
    return {
        r["commune_key"]: (
            f"{r['commune']} – {r['province']}" if counts[r["commune"] or ""] > 1 else r["commune"]
        )
        or UNKNOWN_COMMUNE
        for r in rows
    }


_SHARE_COLUMNS = ("online_share", "overdue_share", "antivirus_coverage", "staff_trained_share")
_FIGURE_COLUMNS = (*_SHARE_COLUMNS, "dossiers_received", "computers_total", "staff_present")


def _comparison_cell(data: ReportData, r: dict, c: str) -> str:
    """A figure with the same marks as `compare`: * derived from counts, its own period when
    older than the commune's latest report, and a blank that says why (– / ?)."""
    v = r[c]
    if v is None:
        cell = data.cells.get((r["commune_key"], c), {})
        held = cell.get("status") == "held"
        mark = "?" if held else "–"
        why = "số liệu đang chờ rà soát" if held else "không báo cáo"
        return f'<td class="num blank" data-v="" title="{esc(why)}">{esc(mark)}</td>'
    if c in _SHARE_COLUMNS:
        text = esc(fmt_number(round(v, 2)) + "%")
        if r.get(f"{c}_derived"):
            derived_from = data.cells.get((r["commune_key"], c), {}).get("derived_from") or ""
            text += f'<span class="derived" title="tính từ số đếm {esc(derived_from)}">*</span>'
        own = r.get(f"{c}_period_end")
        if own is not None and r["latest_period_end"] is not None and own != r["latest_period_end"]:
            text += f' <span class="muted">(T{own.month}/{own.year})</span>'
        return _td(v, text, True)
    return _td(v)


def _comparison(data: ReportData) -> str:
    rows = data.rows(COMPARISON)
    hidden = {"commune_key", "ward_code"} | {f"{c}_derived" for c in _SHARE_COLUMNS} | {
        f"{c}_period_end" for c in _SHARE_COLUMNS}
    cols = [c for c in data.columns[COMPARISON] if c not in hidden]
    head = "".join(f"<th>{esc(column_label(c))}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r[c]
            if c == "commune":
                link = f'<a href="#{commune_anchor(r["commune_key"])}">{esc(v or UNKNOWN_COMMUNE)}</a>'
                cells.append(_td(v, link, numeric=False))
            elif c in _FIGURE_COLUMNS:
                cells.append(_comparison_cell(data, r, c))
            elif c == "latest_period_end":
                cells.append(_td(v, esc(fmt_date(v))))
            else:
                cells.append(_td(v))
        body.append(f'<tr class="commune-row">{"".join(cells)}</tr>')
    if not rows:
        return '<p class="muted">Chưa có xã nào có số liệu.</p>'
    legend = ('<p class="muted">* tính từ số đếm của cùng báo cáo (không có tỷ lệ ghi sẵn); '
              "(T7/2025): kỳ của số liệu khi cũ hơn báo cáo mới nhất của xã; – không báo cáo; "
              "? số liệu đang chờ rà soát. "
              "Kế hoạch không được tính là kết quả thực hiện.</p>")
    return (
        '<table class="sortable" id="comparison-table"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
        + legend
    )


def _charts(data: ReportData) -> str:
    rows = data.rows(COMPARISON)
    labels = _chart_labels(rows)
    out = []
    for column, title in (
        ("online_share", "Tỷ lệ hồ sơ trực tuyến theo xã (%)"),
        ("overdue_share", "Tỷ lệ hồ sơ giải quyết quá hạn theo xã (%)"),
        ("antivirus_coverage", "Tỷ lệ máy tính có phần mềm diệt virus theo xã (%)"),
    ):
        bars = [
            Bar(labels[r["commune_key"]], float(r[column]), "#" + commune_anchor(r["commune_key"]))
            for r in rows
            if r[column] is not None
        ]
        out.append(bar_chart(title, bars))
    return "".join(out)


def _targets(data: ReportData) -> str:
    rows = data.rows(TARGETS)
    bars = [
        TargetBar(
            label=f"{r['commune']}: {data.label(r['metric'])}",
            actual=float(r["actual_value"]),
            target=float(r["target_value"]),
            met=bool(r["met"]),
            text=f"{fmt_number(r['actual_value'])} / {_QUAL_SIGN.get(r['target_qualifier'], '')}"
            f"{fmt_number(r['target_value'])}",
            href="#" + commune_anchor(r["commune_key"]),
        )
        for r in rows
    ]
    chart = target_chart("Mục tiêu và kết quả thực hiện (vạch đen: mục tiêu)", bars)
    if not rows:
        return chart
    head = "".join(
        f"<th>{esc(h)}</th>"
        for h in (
            "Xã/phường",
            "Tỉnh/thành phố",
            "Chỉ tiêu",
            "Mục tiêu",
            "Thực hiện",
            "Chênh lệch",
            "Đạt",
            "Mục tiêu của",
            "Dẫn chứng",
        )
    )
    body = []
    for r in rows:
        met = '<span class="ok">Đạt</span>' if r["met"] else '<span class="bad">Chưa đạt</span>'
        target = (
            f'<a href="#f-{esc(r["target_fact_id"])}">{esc(_QUAL_SIGN.get(r["target_qualifier"], ""))}'
            f"{esc(fmt_number(r['target_value']))}</a>"
        )
        actual = f'<a href="#f-{esc(r["actual_fact_id"])}">{esc(fmt_number(r["actual_value"]))}</a>'
        evidence = "".join(
            f"<blockquote>{esc(r[k])}</blockquote>" for k in ("target_evidence", "actual_evidence")
        )
        body.append(
            "<tr>"
            + _td(
                r["commune"], f'<a href="#{commune_anchor(r["commune_key"])}">{esc(r["commune"])}</a>', False
            )
            + _td(r["province"])
            + _td(data.label(r["metric"]), esc(data.label(r["metric"])))
            + _td(r["target_value"], target, True)
            + _td(r["actual_value"], actual, True)
            + _td(r["gap"])
            + _td(r["met"], met, False)
            + _td(SCOPE_LABELS.get(r["target_scope"], r["target_scope"]))
            + _td(None, evidence, False)
            + "</tr>"
        )
    table = (
        '<table class="sortable" id="targets-table"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )
    return chart + table


def _fact_ids_by_position(data: ReportData) -> dict[tuple[str, int], str]:
    return {(f["doc_sha256"], f["seq"]): f["fact_id"] for f in data.rows(FACTS) if f.get("seq") is not None}


def _flags(data: ReportData) -> str:
    rows = data.rows(FLAGS)
    if not rows:
        return '<p class="muted">Không có cảnh báo: các số liệu kiểm tra được đều khớp nhau.</p>'
    by_pos = _fact_ids_by_position(data)
    out = []
    for r in rows:
        metrics = [m.strip() for m in (r["metrics"] or "").split(",") if m.strip()]
        links = []
        for seq in (s.strip() for s in str(r.get("fact_indexes") or "").split(",")):
            if seq.isdigit() and (r["doc_sha256"], int(seq)) in by_pos:
                fid = by_pos[(r["doc_sha256"], int(seq))]
                links.append(f'<a href="#f-{esc(fid)}">{esc(fid)}</a>')
        sentences = [s for s in (r["evidence"] or "").split("\n") if s.strip()]
        severity = data.severities.get(r["rule"], "error")
        out.append(
            f'<div class="flag {severity}">'
            f"<b>{esc(r['message'] or r['rule'])}</b><br>"
            f'<span class="muted">{esc(_commune_title(r["commune"], r["province"]))} · '
            f"{esc(r['source_file'])} · "
            f"quy tắc {esc(r['rule'])}</span><br>"
            f"Chỉ tiêu: {esc(', '.join(data.label(m) for m in metrics))}<br>"
            f"Ghi trong văn bản: <b>{esc(fmt_number(r['expected']))}</b> · "
            f"tính từ các thành phần: <b>{esc(fmt_number(r['actual']))}</b> · "
            f"chênh lệch: {esc(fmt_number(r['difference']))}"
            + (f"<br>Số liệu: {' '.join(links)}" if links else "")
            + "".join(f"<blockquote>{esc(s)}</blockquote>" for s in sentences)
            + "</div>"
        )
    return "".join(out)


def _rates(data: ReportData) -> str:
    rows = data.rows(RATES)
    if not rows:
        return '<p class="muted">Chưa có số liệu lũy kế theo kỳ.</p>'
    head = "".join(
        f"<th>{esc(h)}</th>"
        for h in ("Xã/phường", "Tỉnh/thành phố", "Chỉ tiêu", "Giá trị", "Kỳ báo cáo", "Số ngày",
                  "Quy đổi 30 ngày")
    )
    body = []
    for r in rows:
        period = (
            f"{fmt_date(r['period_start'])} – {fmt_date(r['period_end'])}"
            if r["period_known"]
            else "không rõ kỳ"
        )
        body.append(
            "<tr>"
            + _td(r["commune"], esc(r["commune"] or UNKNOWN_COMMUNE))
            + _td(r["province"])
            + _td(data.label(r["metric"]), esc(data.label(r["metric"])))
            + _td(r["value"], f'<a href="#f-{esc(r["fact_id"])}">{esc(fmt_number(r["value"]))}</a>', True)
            + _td(r["period_start"], esc(period))
            + _td(r["period_days"])
            + _td(r["per_30_days"])
            + "</tr>"
        )
    return (
        '<table class="sortable" id="rates-table"><thead><tr>'
        + head
        + "</tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table>"
    )


def _fact_value_cell(f: dict) -> str:
    original = _figure(f["original_value"], f["qualifier"], f["unit"])
    link = f'<a href="#f-{esc(f["fact_id"])}">'
    if f["rejected"]:
        return f'{link}<span class="rejected">{esc(original)}</span></a> (bị loại)'
    if f["corrected"] and f["value"] != f["original_value"]:
        new = _figure(f["value"], f["qualifier"], f["unit"])
        return f'{link}<span class="corrected">{esc(new)}</span></a> <s>{esc(original)}</s>'
    return f"{link}{esc(original)}</a>"


def _commune_details(data: ReportData) -> str:
    groups: dict[str | None, list[dict]] = defaultdict(list)
    for f in data.rows(FACTS):
        groups[f["commune_key"]].append(f)
    order = sorted(
        groups, key=lambda k: (k is None, _commune_title(groups[k][0]["commune"], groups[k][0]["province"]))
    )
    out = []
    for key in order:
        facts = groups[key]
        first = facts[0]
        title = _commune_title(first["commune"], first["province"]) if key else UNKNOWN_COMMUNE
        files = sorted({f["source_file"] for f in facts})
        rows = []
        evidence = []
        for f in facts:
            rows.append(
                "<tr>"
                + _td(data.label(f["metric"]), esc(data.label(f["metric"])))
                + _td(f["kind"], esc(KIND_LABELS.get(f["kind"], f["kind"])))
                + _td(f["value"], _fact_value_cell(f), True)
                + _td(f["period_end"], esc(_period(f)))
                + _td(f["source_file"])
                + _td(f["page"])
                + "</tr>"
            )
            where = f"{f['source_file']}" + (f", trang {f['page']}" if f["page"] else "")
            where += f", ký tự {f['char_start']}–{f['char_end']}"
            note = (
                f'<br><span class="corrected">Hiệu chỉnh: {esc(f["correction_note"])} '
                f"({esc(f['corrected_by'])})</span>"
                if f["corrected"]
                else ""
            )
            evidence.append(
                f'<li id="f-{esc(f["fact_id"])}"><b>{esc(data.label(f["metric"]))}</b> '
                f"({esc(KIND_LABELS.get(f['kind'], f['kind']))}) = "
                f"{esc(_figure(f['original_value'], f['qualifier'], f['unit']))}"
                f' <span class="muted">[{esc(f["fact_id"])} · {esc(where)}]</span>'
                f"<blockquote>{esc(f['evidence'])}</blockquote>{note}</li>"
            )
        head = "".join(
            f"<th>{esc(h)}</th>" for h in ("Chỉ tiêu", "Loại", "Giá trị", "Kỳ", "Tệp nguồn", "Trang")
        )
        out.append(
            f'<section class="commune" id="{commune_anchor(key)}"><h3>{esc(title)}</h3>'
            f'<p class="muted">Văn bản: {esc(", ".join(files))}</p>'
            f'<table class="sortable facts-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>"
            f'<details open><summary>Dẫn chứng</summary><ol class="evidence">'
            f"{''.join(evidence)}</ol></details>"
            "</section>"
        )
    return "".join(out) or '<p class="muted">Chưa có số liệu.</p>'


def _period(f: dict) -> str:
    if f["period_start"] and f["period_end"]:
        return f"{fmt_date(f['period_start'])} – {fmt_date(f['period_end'])}"
    return fmt_date(f["period_end"])


def _quarantine(data: ReportData) -> str:
    rows = data.rows(QUARANTINE)
    if not rows:
        return '<p class="muted">Không có tệp nào bị từ chối.</p>'
    items = "".join(f"<li>{esc(q['source_file'])}: {esc(q['reason'])} "
                    f'<span class="muted">({esc(fmt_date(q["at"]))})</span></li>' for q in rows)
    return f"<ul>{items}</ul>"


def _replaced(data: ReportData) -> str:
    """Earlier versions of reports that a corrected re-send replaced: their facts are history."""
    rows = data.rows(REPLACED)
    if not rows:
        return '<p class="muted">Chưa có văn bản nào bị thay bằng bản gửi lại.</p>'
    head = "".join(f"<th>{esc(h)}</th>" for h in ("Tệp", "Xã/phường", "Tỉnh/thành phố", "Kỳ báo cáo",
                                                    "Phiên bản", "Thay bằng", "Lúc thay"))
    body = "".join(
        "<tr>" + _td(r["source_file"]) + _td(r["commune"], esc(r["commune"] or UNKNOWN_COMMUNE))
        + _td(r["province"]) + _td(r["period_end"], esc(_period(r))) + _td(r["version"])
        + _td(r["replaced_by"], esc(f"{r['replaced_by'] or ''} (v{r['replaced_by_version'] or '?'})"))
        + _td(r["superseded_at"], esc(fmt_date(r["superseded_at"]))) + "</tr>"
        for r in rows
    )
    return (f'<table class="sortable" id="replaced-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table>")


def render_html(data: ReportData) -> str:
    n_communes = len(data.rows(COMPARISON))
    n_docs = len({f["source_file"] for f in data.rows(FACTS)})
    summary = (
        f"Lập lúc {data.generated_at.strftime('%H:%M %d/%m/%Y')} · {n_docs} văn bản có số liệu · "
        f"{n_communes} xã/phường · {len(data.rows(FACTS))} số liệu · {len(data.rows(FLAGS))} cảnh báo"
    )
    sections = [
        ("comparison", "So sánh giữa các xã", _comparison(data)),
        ("charts", "Biểu đồ", _charts(data)),
        ("targets", "Mục tiêu và kết quả", _targets(data)),
        ("flags", "Cảnh báo kiểm tra số liệu", _flags(data)),
        ("rates", "Số liệu quy đổi 30 ngày", _rates(data)),
        ("communes", "Chi tiết từng xã", _commune_details(data)),
        ("replaced", "Văn bản đã được thay bằng bản gửi lại", _replaced(data)),
        ("quarantine", "Tệp không đọc được", _quarantine(data)),
    ]
    nav = "".join(f'<a href="#{sid}">{esc(title)}</a>' for sid, title, _ in sections)
    body = "".join(
        f'<section id="{sid}"><h2>{esc(title)}</h2>{html}</section>' for sid, title, html in sections
    )
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>Báo cáo chuyển đổi số và cải cách hành chính cấp xã</title>"
        f"<style>{CSS}</style></head><body>"
        "<header><h1>Báo cáo chuyển đổi số và cải cách hành chính cấp xã</h1>"
        f'<p class="muted">{esc(summary)}</p><nav>{nav}</nav></header>'
        + body
        + f"<script>{SORT_JS}</script></body></html>"
    )
