"""Vietnamese ways of writing a number, chosen at random but always reversible to the
truth value: thousands with dots ("5.676"), decimals with a comma ("19,95"), leading zeros
for small counts ("02"), and money in đồng, triệu or tỷ."""

from __future__ import annotations

import random


def group_thousands(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def format_count(n: int, rng: random.Random) -> str:
    if n < 10 and rng.random() < 0.7:
        return f"{n:02d}"
    if n >= 1000 and rng.random() < 0.8:
        return group_thousands(n)
    return str(n)


def format_decimal(x: float) -> str:
    """19.95 -> "19,95"; 100.0 -> "100"."""
    if float(x).is_integer():
        return group_thousands(int(x))
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    whole, _, frac = text.partition(".")
    return group_thousands(int(whole)) + ("," + frac if frac else "")


def format_percent(x: float, rng: random.Random) -> str:
    return format_decimal(x) + (" %" if rng.random() < 0.2 else "%")


def format_money(vnd: int, rng: random.Random) -> str:
    """Money as the reports write it. Only spellings that are exact for the value are offered."""
    options = [group_thousands(vnd) + " đồng"]
    if vnd % 1_000_000 == 0:
        millions = vnd // 1_000_000
        options += [group_thousands(millions) + " triệu đồng"] * 2
        if vnd >= 1_000_000_000 and vnd % 100_000_000 == 0:
            options += [format_decimal(vnd / 1_000_000_000) + " tỷ đồng"] * 2
    return rng.choice(options)


def format_value(value: float, unit: str, rng: random.Random) -> str:
    if unit == "percent":
        return format_percent(value, rng)
    if unit == "vnd":
        return format_money(int(value), rng)
    return format_count(int(value), rng)


def plain_value(value: float) -> int | float:
    """The JSON form of a truth value: an int when it is whole."""
    return int(value) if float(value).is_integer() else round(float(value), 2)
