"""HTML of the review pages. Every string that comes from a document or the warehouse goes
through `h` (html.escape with quotes), including attribute values; the only script and style
are the app's own static files (CSP forbids inline ones), and nothing is fetched from anywhere
but this server.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from urllib.parse import quote

from commune_metrics.report.format import fmt_date, fmt_number
from commune_metrics.report.labels import (
    DOC_TYPE_LABELS,
    FACT_SCOPE_LABELS,
    KIND_LABELS,
    REVIEW_STATUS_LABELS,
)
from commune_metrics.review.data import Metric
from commune_metrics.warehouse.corrections import KINDS, SCOPES

_SIGN = {"gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "approx": "~", "eq": ""}


def h(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


def ward_text(code: int | None) -> str:
    return "" if code is None else f"{int(code):05d}"


def commune_url(key: str | None) -> str:
    return "/commune?key=" + quote(key or "", safe="")


def doc_url(sha: str, fact_id: str | None = None) -> str:
    return f"/doc/{quote(sha, safe='')}" + (f"#f-{quote(fact_id, safe='')}" if fact_id else "")


def figure(value: float | None, qualifier: str | None, unit: str | None) -> str:
    if value is None:
        return ""
    suffix = {"percent": "%", "vnd": " đồng"}.get(unit or "", "")
    return f"{_SIGN.get(qualifier or 'eq', '')}{fmt_number(value)}{suffix}"


def status_of(f: dict) -> str:
    if f.get("review_status"):
        return str(f["review_status"])
    return "held" if f.get("queued") or f.get("held_for_review") else ""


def layout(title: str, body: str, *, csrf: str, who: str, counts: dict[str, int],
           page_class: str = "") -> str:
    nav = (f'<a href="/">Xã/phường và văn bản</a>'
           f'<a href="/queue" id="nav-queue">Hàng đợi rà soát ({counts.get("queue", 0)})</a>'
           f'<a href="/flags">Cảnh báo ({counts.get("flags", 0)})</a>')
    return (
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="csrf-token" content="{h(csrf)}">'
        f"<title>{h(title)} – rà soát số liệu</title>"
        '<link rel="stylesheet" href="/static/review.css"></head>'
        f'<body class="{h(page_class)}"><header><nav>{nav}</nav>'
        f'<span class="who">Người rà soát: <b>{h(who)}</b> · <kbd>?</kbd> phím tắt</span></header>'
        f"<main><h1>{h(title)}</h1>{body}</main>"
        f"{_help()}"
        '<script src="/static/review.js"></script></body></html>'
    )


def _help() -> str:
    keys = [("j / ↓", "số liệu tiếp theo"), ("k / ↑", "số liệu trước"), ("c", "xác nhận đúng"),
            ("e", "sửa (giá trị, chỉ tiêu, loại, phạm vi)"), ("r", "loại bỏ (ghi lý do)"),
            ("u", "hoàn tác về số đã trích xuất"), ("o", "mở văn bản của số liệu"),
            ("Enter", "lưu biểu mẫu"), ("Esc", "đóng biểu mẫu"), ("?", "bật/tắt trợ giúp")]
    rows = "".join(f"<tr><td><kbd>{h(k)}</kbd></td><td>{h(v)}</td></tr>" for k, v in keys)
    return f'<aside id="help" hidden><h2>Phím tắt</h2><table>{rows}</table></aside>'


def _table(head: Iterable[str], rows: Iterable[str], table_id: str, css: str = "") -> str:
    th = "".join(f"<th>{h(x)}</th>" for x in head)
    return (f'<table id="{h(table_id)}" class="{h(css)}"><thead><tr>{th}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table>")


# -- index -------------------------------------------------------------------------------------

def index_page(communes: list[dict], documents: list[dict]) -> str:
    crow = []
    for c in communes:
        crow.append(
            "<tr>"
            f'<td><a class="commune-link" href="{h(commune_url(c["commune_key"]))}">'
            f'{h(c["commune"])}</a></td>'
            f'<td>{h(c["province"])}</td><td class="num">{h(ward_text(c["ward_code"]))}</td>'
            f'<td class="num">{h(c["documents"])}</td><td class="num">{h(c["facts"])}</td>'
            f'<td class="num">{h(c["reviewed"])}</td><td class="num">{h(c["queued"])}</td>'
            f'<td class="num">{h(c["flags"])}</td><td>{h(fmt_date(c["latest_period_end"]))}</td></tr>'
        )
    communes_html = _table(["Xã/phường", "Tỉnh/thành phố", "Mã", "Văn bản", "Số liệu", "Đã rà soát",
                            "Chờ rà soát", "Cảnh báo", "Kỳ mới nhất"], crow, "communes")
    return (f"<section><h2>Xã/phường</h2>{communes_html if communes else '<p>Chưa có xã nào.</p>'}</section>"
            f"<section><h2>Văn bản</h2>{documents_table(documents)}</section>")


def documents_table(documents: list[dict]) -> str:
    if not documents:
        return "<p>Chưa có văn bản.</p>"
    drow = []
    for d in documents:
        period = _period(d)
        drow.append(
            "<tr>"
            f'<td><a class="doc-link" href="{h(doc_url(d["doc_sha256"]))}">{h(d["source_file"])}</a></td>'
            f'<td>{h(d["commune"] or "chưa xác định")}</td><td>{h(d["province"])}</td>'
            f'<td>{h(DOC_TYPE_LABELS.get(d["doc_type"], d["doc_type"]))}</td><td>{h(period)}</td>'
            f'<td>{h((d["file_type"] or "").upper())}</td>'
            f'<td class="num">{h(d["fact_count"])}</td><td class="num">{h(d["reviewed"])}</td>'
            f'<td class="num">{h(d["queued"])}</td><td class="num">{h(d["flag_count"])}</td></tr>'
        )
    return _table(["Tệp", "Xã/phường", "Tỉnh/thành phố", "Loại", "Kỳ báo cáo", "Định dạng", "Số liệu",
                   "Đã rà soát", "Chờ rà soát", "Cảnh báo"], drow, "documents")


def _period(d: dict) -> str:
    if d.get("period_start") and d.get("period_end"):
        return f"{fmt_date(d['period_start'])} – {fmt_date(d['period_end'])}"
    return fmt_date(d.get("period_end"))


# -- facts ---------------------------------------------------------------------------------------

def evidence_html(evidence: str | None, value: float | None) -> str:
    """The sentence, escaped, with the figure itself in bold where it can be found."""
    text = evidence or ""
    if value is not None:
        candidates = {fmt_number(value), fmt_number(value).replace(".", ""), str(value).replace(".", ","),
                      f"{value:g}"}
        if float(value).is_integer():
            candidates |= {str(int(value)), f"{int(value):02d}"}
        for c in sorted(candidates, key=len, reverse=True):
            at = text.find(c)
            if c and at >= 0:
                return f"{h(text[:at])}<b class=\"num\">{h(c)}</b>{h(text[at + len(c):])}"
    return h(text)


def fact_rows(facts: list[dict], *, show_doc: bool) -> list[str]:
    out = []
    for f in facts:
        status = status_of(f)
        data = {
            "fact-id": f["fact_id"], "doc": f["doc_sha256"], "page": f.get("page") or "",
            "value": "" if f.get("value") is None else repr(float(f["value"])),
            "original": "" if f.get("original_value") is None else repr(float(f["original_value"])),
            "metric": f["metric"], "kind": f["kind"], "scope": f.get("scope") or "",
        }
        attrs = " ".join(f'data-{k}="{h(v)}"' for k, v in data.items())
        shown = figure(f.get("value"), f.get("qualifier"), f.get("unit"))
        original = figure(f.get("original_value"), f.get("qualifier"), f.get("unit"))
        value_html = h(shown) if shown else ""
        if f.get("rejected"):
            value_html = f'<s>{h(original)}</s>'
        elif f.get("corrected") and original != shown:
            value_html = f'{h(shown)} <s class="was">{h(original)}</s>'
        note = ""
        if f.get("corrected_why") or f.get("corrected_by"):
            note = (f'<div class="why">{h(f.get("corrected_by"))}: {h(f.get("corrected_why"))}'
                    f' <span class="muted">{h(fmt_date(f.get("corrected_at")))}</span></div>')
        if f.get("queue_reason") and not f.get("review_status"):
            note += f'<div class="why muted">{h(f["queue_reason"])}</div>'
        doc_cell = (f'<td><a href="{h(doc_url(f["doc_sha256"], f["fact_id"]))}">{h(f["source_file"])}</a>'
                    + (f' <span class="muted">tr. {h(f["page"])}</span>' if f.get("page") else "") + "</td>"
                    if show_doc else "")
        scope = f.get("scope")
        out.append(
            f'<tr class="fact {h(status)}" id="f-{h(f["fact_id"])}" tabindex="-1" {attrs}>'
            f'<td><span class="label">{h(f.get("label") or f["metric"])}</span>'
            f'<div class="code muted">{h(f["metric"])}</div></td>'
            f'<td>{h(KIND_LABELS.get(f["kind"], f["kind"]))}</td>'
            f'<td class="num value">{value_html}</td>'
            f'<td>{h(FACT_SCOPE_LABELS.get(scope, scope) if scope else "chưa xác định")}</td>'
            f'<td class="num">{h(fmt_number(f.get("confidence")))}</td>'
            f'<td class="status">{h(REVIEW_STATUS_LABELS.get(status, ""))}{note}</td>'
            f"{doc_cell}"
            f'<td class="evidence">{evidence_html(f.get("evidence"), f.get("original_value"))}</td>'
            "</tr>"
        )
    return out


def facts_table(facts: list[dict], *, show_doc: bool, table_id: str = "facts") -> str:
    if not facts:
        return '<p class="muted">Không có số liệu.</p>'
    head = ["Chỉ tiêu", "Loại", "Giá trị", "Phạm vi", "Độ tin cậy", "Rà soát"]
    if show_doc:
        head.append("Văn bản")
    head.append("Dẫn chứng")
    return _table(head, fact_rows(facts, show_doc=show_doc), table_id, "facts")


def action_forms(metrics: list[Metric]) -> str:
    """The correct and reject forms, hidden until 'e' or 'r'. Metric codes come from the catalog."""
    options = "".join(f'<option value="{h(m.code)}">{h(m.code)} – {h(m.label)}</option>' for m in metrics)
    kinds = "".join(f'<option value="{h(k)}">{h(KIND_LABELS.get(k, k))}</option>' for k in KINDS)
    scopes = "".join(f'<option value="{h(s)}">{h(FACT_SCOPE_LABELS.get(s, s))}</option>' for s in SCOPES)
    return (
        '<form id="correct-form" class="panel" hidden autocomplete="off">'
        '<h3>Sửa số liệu <span id="correct-fact" class="muted"></span></h3>'
        '<label>Giá trị <input name="value" id="f-value" inputmode="decimal"></label>'
        f'<label>Chỉ tiêu <select name="metric" id="f-metric">{options}</select></label>'
        f'<label>Loại <select name="kind" id="f-kind">{kinds}</select></label>'
        f'<label>Phạm vi <select name="scope" id="f-scope">{scopes}</select></label>'
        '<label>Lý do <input name="why" id="f-why" required placeholder="vì sao sửa (bắt buộc)"></label>'
        '<button type="submit">Lưu (Enter)</button> <button type="button" class="cancel">Hủy (Esc)</button>'
        "</form>"
        '<form id="reject-form" class="panel" hidden autocomplete="off">'
        '<h3>Loại bỏ số liệu <span id="reject-fact" class="muted"></span></h3>'
        '<label>Lý do <input name="why" id="r-why" required placeholder="vì sao số liệu này sai"></label>'
        '<button type="submit">Loại bỏ (Enter)</button> '
        '<button type="button" class="cancel">Hủy (Esc)</button>'
        "</form>"
        '<p id="flash" role="status" aria-live="polite"></p>'
    )


# -- commune, document, queue, flags ---------------------------------------------------------------

def commune_page(commune: dict, documents: list[dict], facts: list[dict], metrics: list[Metric]) -> str:
    meta = (f'<p class="muted">{h(commune["province"])} · mã {h(ward_text(commune["ward_code"]))} · '
            f'{h(commune["documents"])} văn bản</p>')
    return (meta + f"<section><h2>Văn bản</h2>{documents_table(documents)}</section>"
            f"<section><h2>Số liệu</h2>{action_forms(metrics)}{facts_table(facts, show_doc=True)}</section>")


def marked_text(text: str, facts: list[dict], page_starts: list[int] | None) -> str:
    """The document's normalized text with every fact's evidence span in a <mark> (a segment
    covered by several facts lists them all), and a page marker where each page starts."""
    bounds = {0, len(text)}
    spans = []
    for f in facts:
        start, end = f.get("char_start"), f.get("char_end")
        if start is None or end is None or not (0 <= start < end <= len(text)):
            continue
        spans.append((start, end, f["fact_id"]))
        bounds |= {start, end}
    pages = {s: i + 1 for i, s in enumerate(page_starts or [])}
    bounds |= {s for s in pages if 0 <= s <= len(text)}
    cuts = sorted(bounds)
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        if a in pages and len(pages) > 1:
            out.append(f'<span class="pagebreak" id="p-{pages[a]}">Trang {pages[a]}</span>')
        piece = h(text[a:b])
        covering = [fid for s, e, fid in spans if s <= a and b <= e]
        if covering:
            out.append(f'<mark class="ev" data-facts="{h(" ".join(covering))}">{piece}</mark>')
        else:
            out.append(piece)
    return "".join(out)


def document_page(doc: dict, text: str | None, facts: list[dict], flags: list[dict], metrics: list[Metric],
                  page_starts: list[int] | None, has_image: bool) -> str:
    meta = (f'<p class="muted"><a href="{h(commune_url(doc["commune_key"]))}">{h(doc["commune"] or "")}</a>'
            f' · {h(doc["province"])} · {h(DOC_TYPE_LABELS.get(doc["doc_type"], doc["doc_type"]))}'
            f' · {h(_period(doc))} · {h((doc["file_type"] or "").upper())}'
            + (f' · {h(doc["pages"])} trang' if doc.get("pages") else "")
            + (f' · OCR trang {h(doc["ocr_pages"])}' if doc.get("ocr_pages") else "")
            + (" · <b>phiên bản cũ</b>" if not doc.get("is_current") else "") + "</p>")
    text_html = (marked_text(text, facts, page_starts) if text is not None
                 else '<p class="muted">Không tìm thấy nội dung văn bản (tệp gốc đã bị chuyển đi?).</p>')
    image = ('<figure id="page-figure"><figcaption id="page-caption">Trang có số liệu đang chọn</figcaption>'
             '<img id="page-image" alt="Trang văn bản, vùng số liệu được đánh dấu"></figure>'
             if has_image else "")
    flag_html = flags_list(flags) if flags else ""
    return (
        meta
        + f'<div class="doc-grid" data-doc="{h(doc["doc_sha256"])}">'
        + f'<section class="doc-text"><h2>Nội dung văn bản</h2><div id="doc-text">{text_html}</div></section>'
        + f'<section class="doc-facts"><h2>Số liệu ({len(facts)})</h2>{action_forms(metrics)}'
        + facts_table(facts, show_doc=False) + image
        + (f"<h2>Cảnh báo</h2>{flag_html}" if flag_html else "") + "</section></div>"
    )


def queue_page(items: list[dict], metrics: list[Metric]) -> str:
    intro = ('<p class="muted">Số liệu chờ rà soát: độ tin cậy thấp hoặc giá trị bất thường. '
             'Chưa rà soát thì chưa được tính vào so sánh (hiện "?").</p>')
    return intro + action_forms(metrics) + facts_table(items, show_doc=True, table_id="queue")


def flags_list(flags: list[dict]) -> str:
    out = []
    for g in flags:
        links = " ".join(f'<a href="{h(doc_url(g["doc_sha256"], fid))}">{h(fid)}</a>'
                         for fid in g["fact_ids"])
        sentences = "".join(f"<blockquote>{h(s)}</blockquote>" for s in (g["evidence"] or "").split("\n")
                            if s.strip())
        out.append(
            f'<div class="flag"><b>{h(g["message"] or g["rule"])}</b><br>'
            f'<span class="muted">{h(g["commune"])} ({h(g["province"])}) · '
            f'<a href="{h(doc_url(g["doc_sha256"]))}">{h(g["source_file"])}</a>'
            f' · quy tắc {h(g["rule"])}</span>'
            f'<br>Ghi trong văn bản: <b>{h(fmt_number(g["expected"]))}</b> · tính từ các thành phần: '
            f'<b>{h(fmt_number(g["actual"]))}</b>' + (f"<br>Số liệu: {links}" if links else "")
            + sentences + "</div>"
        )
    return "".join(out) or '<p class="muted">Không có cảnh báo.</p>'


def not_found(what: str) -> str:
    return f'<p>Không tìm thấy {h(what)}. <a href="/">Về trang đầu</a></p>'


def json_body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8")
