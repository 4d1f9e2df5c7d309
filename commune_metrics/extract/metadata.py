"""Document metadata: type, issuing commune (name, ward code, province), period, dates, signer.

- Type: the document's own title, the first upper-case title line in its head ("BÁO CÁO",
  "KẾ HOẠCH"); references to other documents ("Kế hoạch số 02-KH/BCĐTW") are never upper case.
  Without a title line, the type code of the document number ("Số: 12/BC-UBND") decides.
  Cue words live in rules/metadata.yaml.
- Commune: every "xã/phường/đặc khu <Name>" is matched against the 2025 list (longest known name
  wins, so "XÃ MINH LONG CỘNG HÒA ..." reads "Minh Long"); mentions are weighted by where they sit
  (header > "UBND xã X báo cáo" > place-date line > title block > passing mention) and the
  heaviest commune is the issuer. Same-name communes are told apart by `gazetteer.decide`, or
  left unresolved (ward_code None, province None unless all candidates share it).
- Period: extractors/dates.py. Plans get no reporting period: their dates are targets.
- Signer: the name under the last signature-block title ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"...),
  checked for name shape (2-5 capitalized syllables, no title words). underthesea's CRF tagger
  (`ner`, not deep) runs on that short block only, as a second signal: it confirms a layout
  candidate or supplies one when the layout gives none.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import takewhile

from commune_metrics.core.config import RULES_DIR
from commune_metrics.core.document import Document
from commune_metrics.core.model import DocMeta
from commune_metrics.extract import gazetteer as gz
from commune_metrics.extract.dates import find_period, find_place_date
from commune_metrics.extract.schemas import MetadataFile, load_rule_file


@dataclass(frozen=True)
class _Rules:
    titles: dict[str, list[str]]
    number_codes: dict[str, list[str]]
    head_chars: int
    weights: dict[str, float]
    header_chars: int
    title_chars: int
    issuer_verbs: tuple[str, ...]
    signer_titles: tuple[str, ...]
    non_name_words: frozenset[str]
    min_syllables: int
    max_syllables: int
    lookahead_lines: int
    surnames: frozenset[str]  # a layout candidate starting with one is trusted without the tagger


@lru_cache(maxsize=1)
def _rules() -> _Rules:
    cfg = load_rule_file(RULES_DIR / "metadata.yaml", MetadataFile).model_dump()
    dt, cm, sg = cfg["doc_type"], cfg["commune"], cfg["signer"]
    return _Rules(
        titles=dt["titles"],
        number_codes=dt["number_codes"],
        head_chars=int(dt["head_chars"]),
        weights={k: float(v) for k, v in cm["weights"].items()},
        header_chars=int(cm["header_chars"]),
        title_chars=int(cm["title_chars"]),
        issuer_verbs=tuple(gz.fold(v) for v in cm["issuer_verbs"]),
        signer_titles=tuple(sorted(sg["titles"], key=len, reverse=True)),
        non_name_words=frozenset(gz.fold(w) for w in sg["non_name_words"]),
        min_syllables=int(sg["min_syllables"]),
        max_syllables=int(sg["max_syllables"]),
        lookahead_lines=int(sg["lookahead_lines"]),
        surnames=frozenset(sg["surnames"]),
    )


# ---------------------------------------------------------------- document type

# "Số: 12/BC-UBND", "Số: /KH-UBND" (the colon and capital S set it apart from "Kế hoạch số 12/KH-UBND")
_NUMBER_CODE = re.compile(r"Số\s*:\s*[\d\s.]*/\s*(?:\d{4}\s*/\s*)?([A-Za-zĐđ]+)\s*-")


def title_line_index(lines: list[str]) -> int | None:
    """Index of the document's own title line (an upper-case title word opening the line),
    else of a title typed in sentence case alone on one of the first 8 lines; None if none."""
    titles = [t for kind_titles in _rules().titles.values() for t in kind_titles]
    for i, line in enumerate(lines):
        line = line.strip()
        if any(line.startswith(t) and (len(line) == len(t) or not line[len(t)].isalnum()) for t in titles):
            return i
    for i, line in enumerate(lines[:8]):
        if line.strip().upper() in titles:
            return i
    return None


def detect_doc_type(text: str) -> str:
    """report / plan / other from the document's own title (see module docstring)."""
    rules = _rules()
    head = text[: rules.head_chars]
    for line in head.splitlines():
        line = line.strip()
        for kind, titles in rules.titles.items():
            for title in titles:
                if line.startswith(title) and (len(line) == len(title) or not line[len(title)].isalnum()):
                    return kind
    m = _NUMBER_CODE.search(head)
    if m:
        code = m.group(1).upper()
        for kind, codes in rules.number_codes.items():
            if code in (c.upper() for c in codes):
                return kind
    for line in head.splitlines()[:8]:  # a title line typed in sentence case, alone on its line
        for kind, titles in rules.titles.items():
            if any(line.strip().upper() == t for t in titles):
                return kind
    return "other"


# ---------------------------------------------------------------- commune

_CUE = re.compile(r"(?<![^\W\d_])(xã|phường|đặc khu)(?![^\W\d_])[ \t\n]+", re.IGNORECASE)
# A name token, possibly after a line break or a dash ("Chân Mây – Lăng Cô"), never both: a line
# starting with a dash is a list item, not the rest of a name.
_TOKEN = re.compile(r"[ \t]*(?:\n[ \t]*|[-–][ \t]*)?([^\W_][\w'’]*)")
_ISSUER_BEFORE = re.compile(r"(?:ủy ban nhân dân|ubnd)\s*$")
_AREA_BEFORE = re.compile(r"(?:địa bàn|tại|của)\s*$")


@dataclass
class _Mention:
    name: str  # display name (from the list when known)
    candidates: list[gz.Commune]
    score: float
    first: int


def _name_tokens(text: str, pos: int, limit: int) -> tuple[list[str], int]:
    """Capitalized tokens from `pos` (every token when the run is upper case); and the end offset."""
    tokens: list[str] = []
    end = pos
    for _ in range(limit):
        m = _TOKEN.match(text, end)
        if not m:
            break
        tok = m.group(1)
        if not (tok[0].isupper() or tok[0].isdigit()):
            break
        tokens.append(tok)
        end = m.end()
    return tokens, end


def _known_prefix(tokens: list[str], kind: str | None) -> tuple[int, list[gz.Commune]]:
    """Longest prefix of `tokens` that names a commune of this kind (any kind as a fallback)."""
    g = gz.gazetteer()
    for n in range(min(len(tokens), g.max_tokens), 0, -1):
        found = g.by_key.get(gz.name_key(" ".join(tokens[:n])), [])
        typed = [c for c in found if kind is None or c.division_type == kind]
        if typed or found:
            return n, typed or found
    return 0, []


def _title_case(tokens: list[str]) -> str:
    return " ".join(t if not t.isupper() or len(t) == 1 else t[:1] + t[1:].lower() for t in tokens)


def _skip_province(after: str, g: gz.Gazetteer) -> str:
    """Text after a commune name without its province: "(tỉnh X) báo cáo", ", thuộc tỉnh X báo cáo"."""
    if after.startswith("("):
        close = after.find(")")
        return after[close + 1 :].lstrip(" ,") if close >= 0 else after
    m = g.named_province_re.match(after.removeprefix("thuộc "))
    if m:
        return after.removeprefix("thuộc ")[m.end() :].lstrip(" ,")
    return after


def _commune_mentions(text: str, issued_place: tuple[str, int] | None) -> dict[str, _Mention]:
    rules = _rules()
    w = rules.weights
    g = gz.gazetteer()
    mentions: dict[str, _Mention] = {}

    def add(name: str, cands: list[gz.Commune], score: float, pos: int) -> None:
        key = gz.name_key(name)
        m = mentions.get(key)
        if m is None:
            mentions[key] = _Mention(name, cands, score, pos)
        else:
            m.score += score
            m.first = min(m.first, pos)

    for cue in _CUE.finditer(text):
        kind = gz.DIVISION_WORDS[gz.fold(cue.group(1))]
        tokens, _ = _name_tokens(text, cue.end(), g.max_tokens + 1)
        if not tokens or (kind == "xã" and gz.fold(tokens[0]) == "hội"):  # "CỘNG HÒA XÃ HỘI ..."
            continue
        n, cands = _known_prefix(tokens, kind)
        before = gz.fold(text[max(0, cue.start() - 30) : cue.start()])
        issuer = bool(_ISSUER_BEFORE.search(before))
        name_end = cue.end()
        if n:
            _, name_end = _name_tokens(text, cue.end(), n)
        after = _skip_province(gz.fold(text[name_end : name_end + 70]).lstrip(" ,"), g)
        after = re.sub(r"^(?:đã|kính|xin|trân trọng)\s+", "", after)
        if issuer and cue.start() < rules.header_chars and cue.group(1).isupper():
            score = w["header"]
        elif issuer and after.startswith(rules.issuer_verbs):
            score = w["issuer_verb"]
        elif cue.start() < rules.title_chars and _AREA_BEFORE.search(before):
            score = w["title_area"]
        else:
            score = w["mention"]
        if n:
            add(cands[0].name, cands, score, cue.start())
        elif score >= w["issuer_verb"]:  # a strong cue naming a place missing from the list
            line_end = text.find("\n", cue.end())
            raw, _ = _name_tokens(text[: line_end if line_end >= 0 else len(text)], cue.end(), 4)
            if raw:
                add(_title_case(raw), [], score, cue.start())
    if issued_place:
        place, pos = issued_place
        kind, bare = gz.split_division(place)
        n, cands = _known_prefix(bare.split(), kind)
        if n and n == len(bare.split()):
            add(cands[0].name, cands, w["place_date"], pos)
    return mentions


def detect_commune(
    text: str, issued_place: tuple[str, int] | None = None
) -> tuple[str | None, gz.Commune | None, list[gz.Commune]]:
    """(display name, resolved commune or None, candidates) of the issuing commune."""
    mentions = _commune_mentions(text, issued_place)
    if not mentions:
        return None, None, []
    best = max(mentions.values(), key=lambda m: (m.score, -m.first))
    resolved = gz.gazetteer().decide(best.candidates, text) if best.candidates else None
    return best.name, resolved, best.candidates


# ---------------------------------------------------------------- signer

_NAME_TOKEN = re.compile(r"[^\W\d_]+")


def _name_shape(words: list[str]) -> str | None:
    """The longest leading run of 2-5 name-like syllables, title-cased; None if too short."""
    rules = _rules()
    upper_run = all(x.isupper() for x in words[: rules.max_syllables]) if words else False
    kept: list[str] = []
    for word in words:
        if not _NAME_TOKEN.fullmatch(word):
            break
        if upper_run:
            word = word[:1] + word[1:].lower()
        elif not (word[:1].isupper() and (len(word) == 1 or not word[1:].isupper())):
            break
        if gz.fold(word) in rules.non_name_words:
            break
        kept.append(word)
        if len(kept) == rules.max_syllables:
            break
    return " ".join(kept) if len(kept) >= rules.min_syllables else None


def _strip_title(line: str) -> str:
    rules = _rules()
    changed = True
    while changed:
        changed = False
        for title in rules.signer_titles:
            if line.upper().startswith(title):
                line = line[len(title) :].lstrip(" .,:;-")
                changed = True
    return line


@lru_cache(maxsize=1)
def _title_re() -> re.Pattern[str]:
    titles = "|".join(re.escape(t) for t in _rules().signer_titles)
    return re.compile(rf"(?<![^\W\d_])(?:{titles})(?![^\W\d_])")


def _after_title(line: str) -> str | None:
    """The text after the last signature title in the line (titles may sit beside the "Nơi nhận"
    column when a two-column layout is flattened); None when the line holds no title."""
    matches = list(_title_re().finditer(line))
    return line[matches[-1].end() :] if matches else None


@lru_cache(maxsize=1)
def _tagger():
    from underthesea import ner  # imported lazily: 0.3 s, and only signature blocks need it

    return ner


def _tagged_names(block: str) -> list[str]:
    """Proper-noun / person chunks of the block according to underthesea (titles stripped)."""
    try:
        tags = _tagger()(block)
    except Exception:  # noqa: BLE001 - the tagger is a hint; layout alone still works
        return []
    names: list[str] = []
    for word, pos, _chunk, label in tags:
        if pos == "Np" or label.endswith("PER"):
            name = _name_shape(_strip_title(word).split())
            if name:
                names.append(name)
    return names


def detect_signer(text: str) -> str | None:
    rules = _rules()
    lines = text.splitlines()[-60:]
    title_idx = [i for i, line in enumerate(lines) if _after_title(line) is not None]
    if not title_idx:
        return None
    last = title_idx[-1]
    window = lines[last : last + 1 + rules.lookahead_lines]
    layout: list[str] = []
    block_lines: list[str] = []
    for line in window:
        after = _after_title(line)
        rest = _strip_title((after if after is not None else line).strip())
        # the tagger costs ~0.3 ms a word: give it the leading words only, no dates or stamps
        words = list(takewhile(lambda w: not any(ch.isdigit() for ch in w), rest.split()))
        if words:
            block_lines.append(" ".join(words[: rules.max_syllables + 2]))
        name = _name_shape(rest.split()) if rest else None
        if name:
            layout.append(name)
    tagged = _tagged_names("\n".join(block_lines)) if block_lines else []
    for name in layout:
        if name in tagged:
            return name
    for name in layout:
        if name.split()[0] in _rules().surnames:
            return name
    if layout:
        return layout[0]
    after = [n for n in tagged if any(n in ln for ln in lines[last + 1 :])]
    return after[0] if after else None


# ---------------------------------------------------------------- entry point


def extract_meta(doc: Document) -> DocMeta:
    text = doc.text
    meta = DocMeta(doc_type=detect_doc_type(text))
    place_date = find_place_date(text)
    meta.issued_on = place_date.issued_on if place_date else None
    name, commune, candidates = detect_commune(
        text, (place_date.place, place_date.start) if place_date else None
    )
    # analysts get the official spelling of the gazetteer ("Hoà Bình", "Sơn Thủy"), not the tone
    # placement the clerk typed, whenever the name is in the gazetteer
    official = {c.name for c in ([commune] if commune else candidates)}
    meta.commune = official.pop() if len(official) == 1 else name
    if commune:
        meta.ward_code = commune.ward_code
        meta.province = commune.province
    elif candidates and len({c.province for c in candidates}) == 1:
        meta.province = candidates[0].province
    period = find_period(text, meta.issued_on)
    meta.as_of = period.as_of
    if meta.doc_type != "plan":
        meta.period_start, meta.period_end = period.start, period.end
    meta.signer = detect_signer(text)
    return meta
