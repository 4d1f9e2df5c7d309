"""Inline SVG charts, generated as text so the report needs no script library or network.
Every label is escaped here; callers pass raw strings."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from commune_metrics.report.format import fmt_number

LABEL_W = 230
BAR_W = 420
ROW_H = 24
TOP = 34
VALUE_W = 150
WIDTH = LABEL_W + BAR_W + VALUE_W
MAX_ROWS = 80  # beyond this a chart shows the first rows and says how many were left out


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    href: str | None = None


@dataclass(frozen=True)
class TargetBar:
    label: str
    actual: float
    target: float
    met: bool
    text: str  # e.g. "80,05 / ≥ 80"
    href: str | None = None


def _label(text: str, y: float, href: str | None) -> str:
    shown = text if len(text) <= 34 else text[:33] + "…"
    node = (
        f'<text x="{LABEL_W - 8}" y="{y}" text-anchor="end" class="lbl">'
        f"<title>{escape(text)}</title>{escape(shown)}</text>"
    )
    if href:
        node = f'<a href="{escape(href, quote=True)}">{node}</a>'
    return node


def _frame(title: str, height: int, body: list[str], note: str = "") -> str:
    note_node = f'<text x="{LABEL_W}" y="{height - 6}" class="note">{escape(note)}</text>' if note else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" aria-label="{escape(title, quote=True)}">'
        f'<text x="0" y="18" class="ttl">{escape(title)}</text>' + "".join(body) + note_node + "</svg>"
    )


def bar_chart(title: str, bars: list[Bar], unit: str = "%", max_value: float | None = 100.0) -> str:
    """Horizontal bars, one per row, largest first. An empty list gives a chart saying so."""
    bars = sorted(bars, key=lambda b: (-b.value, b.label))
    shown = bars[:MAX_ROWS]
    note = f"Hiển thị {len(shown)}/{len(bars)}" if len(bars) > len(shown) else ""
    top = max([b.value for b in shown] + [max_value or 0.0, 1e-9])
    body: list[str] = [
        f'<line x1="{LABEL_W}" y1="{TOP - 4}" x2="{LABEL_W}" y2="{TOP + ROW_H * max(len(shown), 1)}" '
        'class="axis"/>'
    ]
    if not shown:
        body.append(f'<text x="{LABEL_W + 8}" y="{TOP + 16}" class="note">Chưa có số liệu</text>')
    for i, b in enumerate(shown):
        y = TOP + i * ROW_H
        w = max(0.0, min(b.value, top)) / top * BAR_W
        body.append(_label(b.label, y + 16, b.href))
        body.append(
            f'<rect x="{LABEL_W}" y="{y + 4}" width="{w:.1f}" height="{ROW_H - 8}" class="bar">'
            f"<title>{escape(b.label)}: {escape(fmt_number(b.value))}{escape(unit)}</title></rect>"
        )
        body.append(
            f'<text x="{LABEL_W + w + 6:.1f}" y="{y + 16}" class="val">'
            f"{escape(fmt_number(b.value))}{escape(unit)}</text>"
        )
    height = TOP + ROW_H * max(len(shown), 1) + (26 if note else 10)
    return _frame(title, height, body, note)


def target_chart(title: str, rows: list[TargetBar]) -> str:
    """Actual as a bar and the target as a tick, each row on its own scale (units differ)."""
    shown = rows[:MAX_ROWS]
    note = f"Hiển thị {len(shown)}/{len(rows)}" if len(rows) > len(shown) else ""
    body: list[str] = []
    if not shown:
        body.append(
            f'<text x="{LABEL_W + 8}" y="{TOP + 16}" class="note">'
            "Chưa có mục tiêu nào so được với kết quả</text>"
        )
    for i, r in enumerate(shown):
        y = TOP + i * ROW_H
        top = max(r.actual, r.target, 1e-9) * 1.1
        w = max(0.0, r.actual) / top * BAR_W
        tx = LABEL_W + max(0.0, r.target) / top * BAR_W
        cls = "bar met" if r.met else "bar miss"
        body.append(_label(r.label, y + 16, r.href))
        body.append(
            f'<rect x="{LABEL_W}" y="{y + 4}" width="{w:.1f}" height="{ROW_H - 8}" class="{cls}">'
            f"<title>{escape(r.label)}: {escape(r.text)}</title></rect>"
        )
        body.append(f'<line x1="{tx:.1f}" y1="{y + 1}" x2="{tx:.1f}" y2="{y + ROW_H - 1}" class="tick"/>')
        body.append(f'<text x="{LABEL_W + BAR_W + 8}" y="{y + 16}" class="val">{escape(r.text)}</text>')
    height = TOP + ROW_H * max(len(shown), 1) + (26 if note else 10)
    return _frame(title, height, body, note)
