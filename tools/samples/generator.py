"""Synthetic commune reports and plans with known truth.

`compose_document` writes one document as a list of render Blocks plus its gold: a doc_meta
record and one record per fact, in the format of ../shared/gold/seeds.jsonl (with a
`qualifier` on each fact). `generate_corpus` writes many of them to disk in the requested
formats, with DIR/gold.jsonl beside them. Everything is driven by one seeded Random, so a seed
gives the same corpus byte for byte (file formats permitting).
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from tools.samples import render
from tools.samples.numbers import format_decimal, plain_value
from tools.samples.phrasebook import (
    PhraseSet,
    Template,
    drop_optional,
    evidence_span,
    fill,
    load_common,
    load_phrase_set,
)
from tools.samples.world import METRIC_UNITS, SUM_RULES, World, broken_rules, draw_world

FORMATS = ("pdf", "docx", "txt", "scan")
SUFFIX = {"pdf": ".pdf", "docx": ".docx", "txt": ".txt", "scan": ".pdf"}
CHARS_PER_PAGE = 3000  # DejaVu 10 pt on A4 with the renderer's margins, measured
# Odds that a report with a checkable sum gets one sum wrong; about 10% of all documents.
INCONSISTENT_ODDS = 0.17
REPORT_SECTIONS = ("infra", "staff", "procedures", "dossiers", "community", "budget")
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")
PERIOD_YEAR = 2025


@dataclass(frozen=True)
class Commune:
    name: str  # without "Xã"/"Phường"/"Đặc khu"
    division: str  # "xã" | "phường" | "đặc khu"
    province: str  # as the 2025 list (and the gold) spells it
    ward_code: int

    @property
    def with_type(self) -> str:
        return f"{self.division} {self.name}"

    @property
    def province_text(self) -> str:
        if self.province.startswith("Thành phố "):
            return "thành phố " + self.province.removeprefix("Thành phố ")
        return "tỉnh " + self.province


@dataclass
class GoldFact:
    metric: str
    kind: str
    value: float
    qualifier: str
    evidence: str
    value_text: str

    def record(self, doc: str) -> dict:
        return {
            "doc": doc,
            "metric": self.metric,
            "kind": self.kind,
            "value": plain_value(self.value),
            "unit": METRIC_UNITS[self.metric],
            "qualifier": self.qualifier,
            "optional": False,
            "evidence": self.evidence,
        }


@dataclass
class SampleDoc:
    name: str
    meta: dict
    blocks: list[render.Block]
    facts: list[GoldFact] = field(default_factory=list)

    def gold_records(self) -> list[dict]:
        return [{"doc_meta": self.meta}] + [f.record(self.name) for f in self.facts]

    def text(self) -> str:
        return "\n\n".join(b.as_text() for b in self.blocks)


@lru_cache(maxsize=1)
def communes() -> tuple[Commune, ...]:
    # The gazetteer already cleans the package's names (doubled spaces, prefixes); reuse it
    # so the gold never disagrees with what the extractor resolves.
    from commune_metrics.extract.gazetteer import all_communes

    out = [Commune(c.name, c.division_type, c.province, c.ward_code) for c in all_communes()]
    return tuple(sorted(out, key=lambda c: c.ward_code))


# --- small writers ---------------------------------------------------------------------


def _short_date(d: date) -> str:
    return f"{d.day:02d}/{d.month}/{d.year}"


def _long_date(d: date) -> str:
    return f"ngày {d.day:02d} tháng {d.month if d.month > 2 else f'{d.month:02d}'} năm {d.year}"


def _person(rng: random.Random) -> str:
    names = load_common()["names"]
    if rng.random() < 0.7:
        return " ".join((rng.choice(names["surnames"]), rng.choice(names["middle_male"]),
                         rng.choice(names["given_male"])))
    return " ".join((rng.choice(names["surnames"]), rng.choice(names["middle_female"]),
                     rng.choice(names["given_female"])))


_COMMUNE_WORD = re.compile(r"(?<!cấp )(?<!Cấp )\b([Xx])ã\b(?! hội)")


def localize(text: str, division: str) -> str:
    """Templates say "xã"; a ward's or special zone's report names its own kind of unit
    ("UBND phường", "Phường có 12 tổ dân phố"), but keeps the generic "cấp xã" and "xã hội"."""
    if division == "xã":
        return text
    return _COMMUNE_WORD.sub(lambda m: division if m.group(1) == "x" else division.capitalize(), text)


class Context:
    """Fills the fact-free placeholders of common.yaml for one document."""

    def __init__(self, commune: Commune, rng: random.Random, issued: date) -> None:
        self.commune = commune
        self.rng = rng
        self.issued = issued
        self.fixed = {
            "xa": commune.with_type,
            "Xa": commune.with_type[0].upper() + commune.with_type[1:],
            "ten": commune.name,
            "XA_UP": commune.with_type.upper(),
            "tinh": commune.province_text,
        }

    def random_date(self) -> date:
        return date(PERIOD_YEAR, 6, 1) + timedelta(days=self.rng.randint(0, max(1, (self.issued - date(
            PERIOD_YEAR, 6, 1)).days)))

    def docref(self) -> tuple[str, str]:
        kind = self.rng.choice(load_common()["doc_kinds"])
        number = self.rng.choice([self.rng.randint(1, 60), self.rng.randint(60, 2500)])
        ref = kind["pattern"].replace("{n}", f"{number:02d}") + " ngày " + _short_date(self.random_date())
        return ref, self.sub(kind["issuer"])

    def phone(self) -> str:
        return f"0{self.rng.randint(203, 299)}.{self.rng.randint(100, 999)}.{self.rng.randint(100, 999)}"

    def sub(self, text: str, **extra: str) -> str:
        docref: tuple[str, str] | None = None

        def one(m: re.Match) -> str:
            nonlocal docref
            key = m.group(1)
            if key in extra:
                return extra[key]
            if key in self.fixed:
                return self.fixed[key]
            if key in ("docref", "issuer"):
                if docref is None:
                    docref = self.docref()
                return docref[0] if key == "docref" else docref[1]
            if key == "date":
                return _short_date(self.random_date())
            if key == "phone":
                return self.phone()
            if key == "small":
                return f"{self.rng.randint(2, 9):02d}"
            if key == "year":
                return str(self.rng.choice([2025, 2026]))
            raise KeyError(f"unknown placeholder {{{key}}} in {text!r}")

        return localize(re.sub(r"\{(\w+)\}", one, text), self.commune.division)

    def filler(self, topic: str, count: int) -> list[str]:
        pool = load_common()["filler"][topic]
        picks = self.rng.sample(pool, min(count, len(pool)))
        return [self.sub(p) for p in picks]

    def padding_paragraph(self) -> str:
        parts = load_common()["padding"]
        sentences = []
        for _ in range(self.rng.randint(2, 3)):
            sentence = " ".join((self.rng.choice(parts["actors"]), self.rng.choice(parts["actions"]),
                                 self.rng.choice(parts["objects"]) + ",", self.rng.choice(parts["purposes"])))
            sentences.append(self.sub(sentence) + ".")
        tail = self.rng.choice(parts["tails"])
        return " ".join(sentences + ([tail] if tail else []))


# --- choosing what a document says -------------------------------------------------------


class Coverage:
    """Counts how often each metric was written so far, so the corpus covers the whole
    catalog quickly: rarely used metrics are favoured."""

    def __init__(self) -> None:
        self.used: Counter[str] = Counter()

    def weight(self, metrics: Iterable[str]) -> float:
        return sum(1.0 / (1 + self.used[m]) ** 2 for m in metrics) + 1e-6

    def note(self, metrics: Iterable[str]) -> None:
        self.used.update(metrics)


@dataclass
class Chosen:
    template: Template
    text: str  # optional parts decided


def choose_templates(pool: Sequence[Template], taken: set[tuple[str, str]], budget: int,
                     coverage: Coverage, rng: random.Random) -> list[Chosen]:
    """Pick templates until about `budget` facts, never writing a (metric, kind) twice."""
    chosen: list[Chosen] = []
    candidates = list(pool)
    facts = 0
    while candidates and facts < budget:
        weights = [coverage.weight(t.metrics()) for t in candidates]
        template = rng.choices(candidates, weights=weights)[0]
        candidates.remove(template)
        text = drop_optional(template.text, rng)
        probe = Template(template.id, template.section, template.kind, text)
        keys = {(m, template.kind) for m in probe.metrics()}
        if keys & taken:
            continue
        taken |= keys
        coverage.note(probe.metrics())
        chosen.append(Chosen(template, text))
        facts += len(keys)
    return chosen


def _perturb(world: World, present: set[str], rng: random.Random) -> list[str]:
    """Overstate one checkable total by a small amount; return every rule that now fails."""
    rules = [name for name, (total, parts) in SUM_RULES.items() if {total, *parts} <= present]
    if not rules:
        return []
    name = rng.choice(rules)
    total, _ = SUM_RULES[name]
    # Small relative to the total, so shares stated elsewhere stay within their tolerance.
    world.values[total] += rng.randint(1, max(1, min(9, int(world.values[total]) // 150)))
    return broken_rules(world.values, present)


# --- the document --------------------------------------------------------------------------


Period = tuple[date | None, date | None, str, date]  # start, end, phrase for the title, issued on


def month_period(month: int, rng: random.Random) -> Period:
    start = date(PERIOD_YEAR, month, 1)
    end = date(PERIOD_YEAR, month + 1, 1) - timedelta(days=1)
    issued = end + timedelta(days=rng.randint(-6, 8))
    return start, end, f"tháng {month} năm {PERIOD_YEAR}", issued


def quarter3_period(rng: random.Random) -> Period:
    start, end = date(PERIOD_YEAR, 7, 1), date(PERIOD_YEAR, 9, 30)
    return start, end, f"quý III năm {PERIOD_YEAR}", end + timedelta(days=rng.randint(-5, 10))


def _period(rng: random.Random) -> Period:
    roll = rng.random()
    if roll < 0.5:
        return month_period(rng.randint(7, 11), rng)
    if roll < 0.7:
        return quarter3_period(rng)
    if roll < 0.9:
        start = date(PERIOD_YEAR, 7, 1)
        end = start + timedelta(days=rng.randint(45, 150))
        phrase = f"từ ngày {_short_date(start)} đến ngày {_short_date(end)}"
        return start, end, phrase, end + timedelta(days=rng.randint(0, 3))
    issued = date(PERIOD_YEAR, 8, 1) + timedelta(days=rng.randint(0, 120))
    return None, None, "", issued


class DocumentWriter:
    def __init__(self, name: str, commune: Commune, doc_type: str, phrases: PhraseSet,
                 rng: random.Random, coverage: Coverage, with_table: bool) -> None:
        self.name = name
        self.commune = commune
        self.doc_type = doc_type
        self.phrases = phrases
        self.rng = rng
        self.coverage = coverage
        self.with_table = with_table
        self.blocks: list[render.Block] = []
        self.facts: list[GoldFact] = []
        self.inconsistent: list[str] = []  # consistency rules this document breaks on purpose
        self.inconsistent_odds = INCONSISTENT_ODDS

    # block helpers
    def heading(self, text: str) -> None:
        self.blocks.append(render.Block("heading", text))

    def para(self, text: str) -> None:
        self.blocks.append(render.Block("para", text))

    def sentence(self, chosen: Chosen, world: World, bullet: bool = False) -> str:
        kind = chosen.template.kind
        values = world.values if kind == "actual" else {**world.values, **world.targets}
        filled = fill(localize(chosen.text, self.commune.division), values, kind, self.phrases, self.rng)
        for i, slot in enumerate(filled.slots):
            self.facts.append(GoldFact(slot.metric, kind, slot.value, slot.qualifier,
                                       evidence_span(filled.text, filled.slots, i), slot.value_text))
        return ("- " if bullet else "") + filled.text

    def table(self, metrics: list[str], world: World) -> None:
        rows = [list(self.phrases.table_header)]
        for i, metric in enumerate(metrics, start=1):
            value = world.values[metric]
            unit = METRIC_UNITS[metric]
            text = format_decimal(value) + ("%" if unit == "percent" else "")
            if unit == "count" and value < 10 and self.rng.random() < 0.6:
                text = f"{int(value):02d}"
            label = self.phrases.table_labels[metric]
            rows.append([str(i), label, text])
            self.facts.append(GoldFact(metric, "actual", value, "eq", f"{label} | {text}", text))
        self.blocks.append(render.Block("table", rows=rows))


def _header(w: DocumentWriter, ctx: Context, number: str, issued: date) -> None:
    c = w.commune
    if w.rng.random() < 0.5:
        w.para(f"ỦY BAN NHÂN DÂN\n{c.with_type.upper()}")
    else:
        w.para(f"UBND {c.with_type.upper()}")
    w.para("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc")
    w.para(f"Số: {number}")
    place = c.name if w.rng.random() < 0.5 else ctx.fixed["Xa"]
    w.para(f"{place}, {_long_date(issued)}")


def _signature(w: DocumentWriter, ctx: Context, closing: str, recipient: str) -> str | None:
    common = load_common()
    w.para(ctx.sub(closing, recipient=recipient))
    cc = [ctx.sub(x) for x in w.rng.choice(common["cc_lists"])]
    w.para("Nơi nhận:\n" + "\n".join(f"- {x};" for x in cc[:-1]) + f"\n- {cc[-1]}.")
    signer = None if w.rng.random() < 0.06 else _person(w.rng)
    if w.rng.random() < 0.65:
        title = "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"
    else:
        title = "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    w.para(title + ("\n\n" + signer if signer else "\n\n(Đã ký)"))
    return signer


def _report_body(w: DocumentWriter, ctx: Context, world: World, period_phrase: str) -> None:
    common = load_common()
    rng = w.rng
    taken: set[tuple[str, str]] = set()
    budget = rng.randint(12, 25)
    table_metrics: list[str] = []
    if w.with_table:
        labels = list(w.phrases.table_labels)
        rng.shuffle(labels)
        labels.sort(key=lambda m: w.coverage.used[m])
        table_metrics = sorted(labels[: rng.randint(3, 6)], key=list(w.phrases.table_labels).index)
        taken |= {(m, "actual") for m in table_metrics}
        w.coverage.note(table_metrics)
    targets = choose_templates(w.phrases.pool("target"), taken, rng.choice([0, 0, 1, 2, 3]), w.coverage, rng)
    actual = choose_templates(w.phrases.pool("actual"), taken,
                              max(1, budget - len(table_metrics) - len(targets)), w.coverage, rng)
    present = {m for c in actual for m in Template("", "", "", c.text).metrics()} | set(table_metrics)
    inconsistent = _perturb(world, present, rng) if rng.random() < w.inconsistent_odds else []
    w.inconsistent = inconsistent

    w.heading(f"{ROMAN[0]}. {common['part_titles_report']['results']}")
    sub = 0
    sub += 1
    w.heading(f"{sub}. {rng.choice(common['sections_report']['legal'])}")
    w.para(" ".join(ctx.filler("legal", rng.randint(2, 4))))
    by_section: dict[str, list[Chosen]] = {}
    for c in actual:
        by_section.setdefault(c.template.section, []).append(c)
    for section in REPORT_SECTIONS:
        items = by_section.get(section)
        if not items:
            continue
        sub += 1
        w.heading(f"{sub}. {rng.choice(common['sections_report'][section])}")
        if rng.random() < 0.5:
            w.para(" ".join(ctx.filler(section, rng.randint(1, 2))))
        as_list = rng.random() < 0.35
        sentences = [w.sentence(c, world, bullet=as_list) for c in items]
        if as_list:
            for s in sentences:
                w.para(s)
        else:
            w.para(" ".join(sentences))
        if rng.random() < 0.5:
            w.para(" ".join(ctx.filler(section, rng.randint(1, 2))))
    if table_metrics:
        sub += 1
        w.heading(f"{sub}. {rng.choice(common['sections_report']['tables'])}")
        w.para(f"Số liệu {period_phrase or 'đến thời điểm báo cáo'} được tổng hợp tại bảng sau:")
        w.table(table_metrics, world)
    part = 1
    for key in ("difficulties", "direction", "proposals"):
        w.heading(f"{ROMAN[part]}. {common['part_titles_report'][key]}")
        part += 1
        lines = ctx.filler(key, rng.randint(2, 3))
        if key == "direction":
            lines += [w.sentence(c, world) for c in targets]
            rng.shuffle(lines)
        for line in lines:
            w.para(f"- {line}")


def _plan_body(w: DocumentWriter, ctx: Context, world: World) -> None:
    common = load_common()
    rng = w.rng
    titles = common["part_titles_plan"]
    taken: set[tuple[str, str]] = set()
    targets = choose_templates(w.phrases.pool("target"), taken, rng.randint(8, 18), w.coverage, rng)
    situation = choose_templates(w.phrases.pool("actual", ("infra", "staff", "community")), taken,
                                 rng.choice([0, 0, 2, 3]), w.coverage, rng)
    part = 0
    w.heading(f"{ROMAN[part]}. {titles['purpose']}")
    for line in ctx.filler("purpose", rng.randint(3, 5)):
        w.para(f"- {line}")
    if situation:
        part += 1
        w.heading(f"{ROMAN[part]}. THỰC TRẠNG")
        w.para(" ".join(w.sentence(c, world) for c in situation))
    part += 1
    w.heading(f"{ROMAN[part]}. {titles['goals']}")
    general, specific = common["plan_goal_subtitles"]
    w.heading(f"1. {general}")
    w.para(" ".join(ctx.filler("goals_general", rng.randint(1, 3))))
    w.heading(f"2. {specific}")
    for c in targets:
        w.para(w.sentence(c, world, bullet=True))
    for key in ("tasks", "funding", "organisation"):
        part += 1
        w.heading(f"{ROMAN[part]}. {titles[key]}")
        for i, line in enumerate(ctx.filler(key, rng.randint(2, 4)), start=1):
            w.para(f"{i}. {line}" if key == "organisation" else f"- {line}")


def compose_document(name: str, rng: random.Random, phrases: PhraseSet, coverage: Coverage,
                     commune: Commune | None = None, doc_type: str | None = None,
                     with_table: bool = False, pages: int | None = None,
                     period: Period | None = None,
                     inconsistent: bool | None = None) -> SampleDoc:
    """One document and its gold. `pages` pads it with filler up to about that many pages;
    `inconsistent` forces (True) or forbids (False) a deliberately wrong sum."""
    commune = commune or rng.choice(communes())
    doc_type = doc_type or ("plan" if rng.random() < 0.2 else "report")
    common = load_common()
    world = draw_world(rng)
    if doc_type == "plan":
        start, end, phrase = None, None, ""
        issued = date(PERIOD_YEAR, 8, 1) + timedelta(days=rng.randint(0, 140))
    else:
        start, end, phrase, issued = period or _period(rng)
    ctx = Context(commune, rng, issued)
    w = DocumentWriter(name, commune, doc_type, phrases, rng, coverage, with_table and doc_type == "report")
    if inconsistent is not None:
        w.inconsistent_odds = 1.0 if inconsistent else 0.0
    code = "BC" if doc_type == "report" else "KH"
    _header(w, ctx, f"{rng.randint(1, 320)}/{code}-UBND", issued)
    if doc_type == "report":
        w.heading("BÁO CÁO")
        w.para(ctx.sub(rng.choice(common["report_titles"]), period=phrase).replace("  ", " ").strip())
        recipient = ctx.sub(rng.choice(common["recipients"]))
        w.para(f"Kính gửi: {recipient}")
        w.para(ctx.sub(rng.choice(common["report_intros"])))
        _report_body(w, ctx, world, phrase)
        closing = rng.choice(common["closings_report"])
    else:
        w.heading("KẾ HOẠCH")
        w.para(ctx.sub(rng.choice(common["plan_titles"])))
        recipient = ""
        w.para(ctx.sub(rng.choice(common["plan_intros"])))
        _plan_body(w, ctx, world)
        closing = rng.choice(common["closings_plan"])
    if pages:
        _pad(w, ctx, pages * CHARS_PER_PAGE)
    signer = _signature(w, ctx, closing, recipient)
    meta = {
        "doc": name,
        "commune": commune.name,
        "province": commune.province,
        "ward_code": commune.ward_code,
        "doc_type": doc_type,
        "period_start": start.isoformat() if start else None,
        "period_end": end.isoformat() if end else None,
        "signer": signer,
        "issued_on": issued.isoformat(),
    }
    if w.inconsistent:
        meta["inconsistent"] = list(w.inconsistent)
    return SampleDoc(name, meta, w.blocks, w.facts)


def _pad(w: DocumentWriter, ctx: Context, target_chars: int) -> None:
    """Insert filler paragraphs before the closing part until the text is long enough."""
    length = sum(len(b.as_text()) for b in w.blocks)
    # Pad inside the first part, after its last block, so padding reads as narrative.
    anchor = next((i for i, b in enumerate(w.blocks) if b.kind == "heading" and b.text.startswith("II.")),
                  len(w.blocks))
    extra: list[render.Block] = []
    while length < target_chars:
        text = ctx.padding_paragraph()
        extra.append(render.Block("para", text))
        length += len(text)
    w.blocks[anchor:anchor] = extra


# --- pages and files ----------------------------------------------------------------------


def paginate(
    blocks: Sequence[render.Block], chars_per_page: int = CHARS_PER_PAGE
) -> list[list[render.Block]]:
    pages: list[list[render.Block]] = [[]]
    used = 0
    for block in blocks:
        size = len(block.as_text()) + 80 * (block.kind != "para")
        if pages[-1] and used + size > chars_per_page:
            pages.append([])
            used = 0
        pages[-1].append(block)
        used += size
    return pages


def write_document(doc: SampleDoc, path: Path, fmt: str, scan_dpi: int = 150) -> None:
    pages = paginate(doc.blocks)
    if fmt == "pdf":
        render.write_pdf(path, pages, page_numbers=True)
    elif fmt == "scan":
        render.write_scanned_pdf(path, pages, dpi=scan_dpi, page_numbers=True)
    elif fmt == "docx":
        render.write_docx(path, doc.blocks)
    elif fmt == "txt":
        render.write_txt(path, pages)
    else:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")


def _write_job(job: tuple[SampleDoc, str, str, int]) -> None:
    doc, path, fmt, dpi = job
    write_document(doc, Path(path), fmt, dpi)


def compose_corpus(n: int, seed: int, phrases: str = "dev", formats: Sequence[str] = FORMATS,
                   pages: tuple[int, int] | None = None) -> list[tuple[SampleDoc, str]]:
    """The documents of a corpus with the format each is written in; nothing touches disk."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise ValueError(f"formats must be a non-empty subset of {FORMATS}, got {list(formats)}")
    phrase_set = load_phrase_set(phrases)
    rng = random.Random(seed)
    coverage = Coverage()
    out = []
    for i in range(n):
        fmt = formats[i % len(formats)] if len(formats) > 1 else formats[0]
        commune = rng.choice(communes())
        slug = commune.with_type.replace(" ", "_")
        doc_rng = random.Random(rng.getrandbits(64))
        doc_type = "plan" if doc_rng.random() < 0.2 else "report"
        name = f"{i:04d}_{'bc' if doc_type == 'report' else 'kh'}_{_ascii(slug)}{SUFFIX[fmt]}"
        page_count = doc_rng.randint(*pages) if pages else None
        doc = compose_document(name, doc_rng, phrase_set, coverage, commune, doc_type,
                               with_table=fmt in ("pdf", "docx", "txt") and doc_rng.random() < 0.5,
                               pages=page_count)
        out.append((doc, fmt))
    return out


def _ascii(text: str) -> str:
    import unicodedata

    text = text.replace("đ", "d").replace("Đ", "D")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def write_gold(path: Path, docs: Iterable[SampleDoc]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for doc in docs:
            for record in doc.gold_records():
                fh.write(json.dumps(record, ensure_ascii=False) + "\n")


def generate_corpus(out_dir: Path, n: int, seed: int, phrases: str = "dev",
                    formats: Sequence[str] = FORMATS, pages: tuple[int, int] | None = None,
                    workers: int = 1, scan_dpi: int = 150) -> Path:
    """Write n documents and out_dir/gold.jsonl; return the gold path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    docs = compose_corpus(n, seed, phrases, tuple(formats), pages)
    jobs = [(doc, str(out_dir / doc.name), fmt, scan_dpi) for doc, fmt in docs]
    if workers > 1 and len(jobs) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_job, jobs, chunksize=8))
    else:
        for job in jobs:
            _write_job(job)
    gold = out_dir / "gold.jsonl"
    write_gold(gold, (doc for doc, _ in docs))
    return gold
