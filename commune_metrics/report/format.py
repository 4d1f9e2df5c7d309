"""Numbers and dates the way Vietnamese readers write them: 5.676 and 80,05."""

from __future__ import annotations

from datetime import date, datetime


def fmt_number(value: float | int | None, digits: int = 2) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    x = float(value)
    if x.is_integer():
        return f"{int(x):,}".replace(",", ".")
    text = f"{x:,.{digits}f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def fmt_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    return value.strftime("%d/%m/%Y")


def fmt_any(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return fmt_number(value)
    if isinstance(value, date):
        return fmt_date(value)
    return str(value)
