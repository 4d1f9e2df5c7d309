"""Hostile-inbox fuzzing: build an inbox of good and hostile files, ingest it, and prove that
every file ends in exactly one place and nothing was fetched, followed or exhausted.

    python -m tools.fuzz --files 1000            # `make fuzz`
    python -m tools.fuzz --files 200 --json      # what tests/test_fuzz.py runs

    inbox = build_inbox(root / "inbox", files=200, seed=0, outside=root / "outside", port=port)
    report = run_fuzz(files=200, seed=0, workdir=root)   # builds, ingests, verifies
    report.problems                                        # [] when the pipeline held

A file "ends in one place" when it is gone from the inbox and is either loaded (processed/
folder + a document version with its hash), unchanged (processed/ + its hash already loaded)
or quarantined (quarantine/ + `<name>.reason.txt` + a quarantine row with its hash).
Symlinks that point outside the inbox are never followed: they stay, their targets untouched.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pickle
import random
import re
import resource
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

LOADED, UNCHANGED, QUARANTINED, SKIPPED = "loaded", "unchanged", "quarantined", "skipped"
GOOD = frozenset({LOADED, UNCHANGED})
ANY_END = frozenset({LOADED, UNCHANGED, QUARANTINED})
QUAR = frozenset({QUARANTINED})
INTERNAL_ERROR = "internal_error"


@dataclass
class Planted:
    """One file put in the inbox and what may become of it."""

    path: str  # absolute (str, may hold surrogate escapes for non-UTF-8 names)
    kind: str
    sha256: str
    outcomes: frozenset[str]
    codes: frozenset[str] | None = None  # allowed quarantine codes; None: any but internal_error

    def allows(self, outcome: str, code: str | None) -> bool:
        if outcome not in self.outcomes:
            return False
        if outcome != QUARANTINED:
            return True
        if code == INTERNAL_ERROR:
            return False
        return self.codes is None or code in self.codes


@dataclass
class HostileInbox:
    root: Path
    outside: Path
    planted: list[Planted] = field(default_factory=list)
    symlinks: dict[str, str] = field(default_factory=dict)  # link path -> sha256 of its target
    port: int | None = None


# -- raw PDF building --------------------------------------------------------------------

def raw_pdf(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF from object bodies (object 1 must be the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, trailer_extra, xref)
    return bytes(out)


def _stream(head: bytes, data: bytes) -> bytes:
    return head + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _text_page_objects(text: bytes, extra_page: bytes = b"", resources: bytes = b"") -> list[bytes]:
    content = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    return [
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> " + resources + b">> " + extra_page + b">>",
        _stream(b"<<", content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]


def zero_page_pdf() -> bytes:
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"])


def active_pdf(port: int) -> bytes:
    """A PDF that asks a viewer to run JavaScript, open URLs and load an external stream, all
    aimed at 127.0.0.1:port. A reader must do none of it."""
    url = b"http://127.0.0.1:%d" % port
    js = b"app.launchURL('" + url + b"/js', true); this.submitForm('" + url + b"/form');"
    annot = b"/Annots [6 0 R] /AA << /O << /S /URI /URI (" + url + b"/page-open) >> >>"
    objs = _text_page_objects(b"Tong so ho so tiep nhan la 10 ho so.", annot,
                              b"/XObject << /Ext 7 0 R >> ")
    catalog = (b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (" + js + b") >> "
               b"/Names << /JavaScript << /Names [(a) << /S /JavaScript /JS (" + js + b") >>] >> >> >>")
    link = (b"<< /Type /Annot /Subtype /Link /Rect [0 0 595 842] "
            b"/A << /S /URI /URI (" + url + b"/link) >> >>")
    # Stream data kept in an external file given by URL (PDF 1.2 /F with /FS /URL).
    external = (b"<< /Type /XObject /Subtype /Image /Width 1 /Height 1 /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8 /F << /FS /URL /F (" + url + b"/image.png) >> /Length 0 >>\n"
                b"stream\n\nendstream")
    return raw_pdf([catalog] + objs + [link, external])


def flate_bomb_pdf(megabytes: int) -> bytes:
    """One page whose content stream inflates to `megabytes` MB of drawing operators."""
    op = b"0 0 m 1 1 l S\n"
    comp = zlib.compressobj(9)
    block = op * (1024 * 1024 // len(op))
    packed = b"".join(comp.compress(block) for _ in range(megabytes)) + comp.flush()
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        _stream(b"<< /Filter /FlateDecode", packed),
    ])


def giant_page_pdf() -> bytes:
    """A 709-byte 'scan': one tiny image stretched over a 200 x 200 inch page, so rendering it
    for OCR at 300 dpi would need a 60,000 x 60,000 pixel bitmap."""
    image = zlib.compress(bytes(64 * 64))
    return raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /Contents 4 0 R "
        b"/Resources << /XObject << /Im1 5 0 R >> >> >>",
        _stream(b"<<", b"q 14400 0 0 14400 0 0 cm /Im1 Do Q"),
        _stream(b"<< /Type /XObject /Subtype /Image /Width 64 /Height 64 /ColorSpace /DeviceGray "
                b"/BitsPerComponent 8 /Filter /FlateDecode", image),
    ])


def encrypted_pdf(text: str) -> bytes:
    from fpdf import FPDF

    from tools.samples.render import FONT_REGULAR

    pdf = FPDF()
    pdf.set_encryption(owner_password="chu-so-huu", user_password="mat-khau")
    pdf.add_font("DejaVu", "", str(FONT_REGULAR))
    pdf.set_font("DejaVu", size=11)
    pdf.add_page()
    pdf.multi_cell(0, 6, text)
    return bytes(pdf.output())


def lying_page_count(pdf: bytes) -> bytes:
    """The page tree of a 1-page PDF claiming 100,000 pages."""
    lying, n = re.subn(rb"/Count 1\b", b"/Count 100000", pdf, count=1)
    if n != 1:
        raise ValueError("not a one-page PDF")
    return lying


def flip_bytes(data: bytes, rng: random.Random, count: int) -> bytes:
    out = bytearray(data)
    for _ in range(count):
        i = rng.randrange(16, max(17, len(out) - 16))  # keep header and %%EOF: get past the envelope
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


# -- DOCX building -----------------------------------------------------------------------

def _rewrite_zip(data: bytes, change: Callable[[str, bytes], bytes | None],
                 extra: Callable[[zipfile.ZipFile], None] | None = None, comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            new = change(info.filename, src.read(info))
            if new is not None:
                dst.writestr(info, new)
        if extra:
            extra(dst)
        dst.comment = comment
    return buf.getvalue()


def zeros_bomb_docx(base: bytes, megabytes: int) -> bytes:
    def add(zf: zipfile.ZipFile) -> None:
        chunk = bytes(1024 * 1024)
        with zf.open("word/media/image1.bin", "w", force_zip64=True) as fh:
            for _ in range(megabytes):
                fh.write(chunk)

    return _rewrite_zip(base, lambda n, d: d, add)


def nested_bomb_docx(base: bytes, inner: bytes) -> bytes:
    """A real document carrying a zip bomb as a stored (uncompressed) embedded object."""
    def add(zf: zipfile.ZipFile) -> None:
        zf.writestr(zipfile.ZipInfo("word/embeddings/oleObject1.bin"), inner)  # stored

    return _rewrite_zip(base, lambda n, d: d, add)


def many_entries_docx(base: bytes, entries: int = 12_000) -> bytes:
    def add(zf: zipfile.ZipFile) -> None:
        for i in range(entries):
            zf.writestr(f"customXml/fuzz{i}.xml", b"")

    return _rewrite_zip(base, lambda n, d: d, add)


def lying_size_docx(base: bytes, megabytes: int = 64) -> bytes:
    """word/document.xml really inflates to `megabytes` MB but both zip headers declare 1/1000
    of that, so a size check on the directory passes; reading must still stop at the declared size."""
    pad = b"<!--" + b" " * (megabytes * 1024 * 1024) + b"-->"
    name = b"word/document.xml"
    data = _rewrite_zip(base, lambda n, d: d.replace(b"?>", b"?>" + pad, 1) if n == name.decode() else d)
    out = bytearray(data)
    for sig, size_at, name_len_at, name_at in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        start = 0
        while (i := out.find(sig, start)) >= 0:
            start = i + 4
            (name_len,) = struct.unpack_from("<H", out, i + name_len_at)
            if bytes(out[i + name_at:i + name_at + name_len]) == name:
                (real,) = struct.unpack_from("<I", out, i + size_at)
                struct.pack_into("<I", out, i + size_at, max(1, real // 1000))
    return bytes(out)


def entity_docx(base: bytes, secret: Path) -> bytes:
    """Billion laughs plus an external entity reading a local file, inside word/document.xml."""
    laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    doctype = (f'<!DOCTYPE w:document [<!ENTITY l0 "ha">{laughs}'
               f'<!ENTITY x SYSTEM "file://{secret}">]>')

    def change(name: str, data: bytes) -> bytes:
        if name != "word/document.xml":
            return data
        text = data.decode("utf-8").replace("?>", "?>" + doctype, 1)
        text = text.replace("</w:body>", "<w:p><w:r><w:t>&l9;&x;</w:t></w:r></w:p></w:body>", 1)
        return text.encode("utf-8")

    return _rewrite_zip(base, change)


def external_links_docx(base: bytes, port: int) -> bytes:
    """Linked image, hyperlink, attached template and an external-frame relationship to 127.0.0.1."""
    url = f"http://127.0.0.1:{port}"
    rels = (f'<Relationship Id="rIdX1" TargetMode="External" Target="{url}/linked.png" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image"/>'
            f'<Relationship Id="rIdX2" TargetMode="External" Target="{url}/page.html" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"/>'
            f'<Relationship Id="rIdX3" TargetMode="External" Target="{url}/frame.docx" '
            'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/subDocument"/>')
    template = (f'<Relationship Id="rIdT" TargetMode="External" Target="{url}/template.dotm" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/attachedTemplate"/>')
    blip = ('<w:p><w:r><w:drawing><wp:inline xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/'
            'wordprocessingDrawing"><wp:extent cx="10" cy="10"/><wp:docPr id="99" name="x"/>'
            '<a:graphic xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main">'
            '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            '<pic:pic xmlns:pic="http://schemas.openxmlformats.org/drawingml/2006/picture">'
            '<pic:blipFill><a:blip xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
            'relationships" r:link="rIdX1"/></pic:blipFill></pic:pic></a:graphicData></a:graphic>'
            '</wp:inline></w:drawing></w:r></w:p>')

    def change(name: str, data: bytes) -> bytes:
        if name == "word/_rels/document.xml.rels":
            return data.replace(b"</Relationships>", rels.encode() + b"</Relationships>")
        if name == "word/document.xml":
            return data.replace(b"</w:body>", blip.encode() + b"</w:body>", 1)
        return data

    def add(zf: zipfile.ZipFile) -> None:
        zf.writestr("word/_rels/settings.xml.rels",
                    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns='
                    f'"http://schemas.openxmlformats.org/package/2006/relationships">{template}</Relationships>')

    return _rewrite_zip(base, change, add)


# -- the inbox ---------------------------------------------------------------------------

_LONG_VI = "Báo cáo kết quả chuyển đổi số và cải cách hành chính của Ủy ban nhân dân xã "
ODD_NAMES = [
    "Báo cáo tháng 7 – Xã Tân Thành.pdf",
    unicodedata.normalize("NFD", "Kế hoạch năm 2026 của phường Hải Châu.docx"),
    "  spaces  at both ends  .txt",
    "-rf --help.pdf",
    "$(touch pwned) `id`.txt",
    "'; DROP TABLE facts; --.docx",
    '<img src=x onerror="alert(1)">.txt',
    "new\nline.pdf",
    "tab\tname.txt",
    "emoji 📄 báo cáo.docx",
    "rtl \u202egnp.pdf",
    "..pdf",
    "UPPER CASE.PDF",
    "percent %s %n {0}.txt",
    "back\\slash.docx",
]


def _long_name(suffix: str, limit_bytes: int = 250) -> str:
    name = _LONG_VI * 8
    while len((name + suffix).encode()) > limit_bytes:
        name = name[:-1]
    return name.rstrip() + suffix


class _Builder:
    def __init__(self, root: Path, outside: Path, rng: random.Random, port: int) -> None:
        self.inbox = HostileInbox(root=root, outside=outside, port=port)
        self.rng = rng
        self.port = port
        self.used: set[str] = set()

    def put(self, rel: str | bytes, data: bytes, kind: str, outcomes: frozenset[str],
            codes: set[str] | None = None) -> None:
        if isinstance(rel, bytes):  # a non-UTF-8 file name
            path_bytes = os.fsencode(self.inbox.root) + b"/" + rel
            path = os.fsdecode(path_bytes)
        else:
            path = str(self.inbox.root / rel)
        if path in self.used:
            raise ValueError(f"name planted twice: {path!r}")
        self.used.add(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            fh.write(data)
        self.inbox.planted.append(Planted(path, kind, hashlib.sha256(data).hexdigest(), outcomes,
                                          frozenset(codes) if codes else None))


def _legacy_text(i: int, rng: random.Random) -> bytes:
    """A Vietnamese report line in an encoding other than UTF-8 (as old Windows tools save it)."""
    text = f"Báo cáo của Ủy ban nhân dân xã Tân Thành, số {i}: tiếp nhận 1.234 hồ sơ"
    encoding = rng.choice(["cp1258", "utf-16-le", "latin-1", "utf-16-be"])
    form = "NFD" if encoding == "cp1258" else "NFC"  # cp1258 holds tone marks as combining bytes
    data = unicodedata.normalize(form, text).encode(encoding, errors="replace")
    if not encoding.startswith("utf-16"):  # UTF-16 without a BOM is refused for its NUL bytes
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return data
        raise AssertionError(f"{encoding} text that is valid UTF-8")
    return data


def _good_corpus(n: int, seed: int, scans: int) -> list[tuple[str, bytes, str]]:
    """(name, bytes, format) of n generated reports, `scans` of them scanned."""
    from tools.samples.generator import compose_corpus, write_document

    out = []
    with tempfile.TemporaryDirectory(prefix="cm-fuzz-good-") as tmp:
        docs = compose_corpus(n, seed, "dev", ("pdf", "docx", "txt"))
        for i, (doc, fmt) in enumerate(docs):
            fmt = "scan" if i < scans else fmt
            name = Path(doc.name).with_suffix(".pdf").name if fmt == "scan" else doc.name
            path = Path(tmp) / name
            write_document(doc, path, fmt, scan_dpi=100)
            out.append((name, path.read_bytes(), fmt))
    return out


def build_inbox(root: Path, files: int = 200, seed: int = 0, outside: Path | None = None,
                port: int = 9, scans: int | None = None) -> HostileInbox:
    """Write at least `files` files (good reports and every hostile kind) under `root`, plus
    symlinks to files in `outside`. `port` is where external references point."""
    root = Path(root)
    outside = Path(outside) if outside else root.parent / "outside"
    root.mkdir(parents=True, exist_ok=True)
    outside.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    b = _Builder(root, outside, rng, port)
    good_n = max(12, files * 3 // 10)
    scans = max(1, files // 250) if scans is None else scans
    good = _good_corpus(good_n, seed, scans)
    pdfs = [d for _, d, f in good if f == "pdf"]
    docxs = [d for _, d, f in good if f == "docx"]
    from tools.samples.render import Block, pdf_bytes

    one_page = pdf_bytes([[Block("para", "Tổng số hồ sơ tiếp nhận là 5.676 hồ sơ.")]])

    # Good reports, some under odd names and some in subfolders.
    odd = list(ODD_NAMES)
    for i, (name, data, fmt) in enumerate(good):
        suffix = Path(name).suffix
        if odd and i % 3 == 1 and (fmt != "scan"):
            want = odd[0]
            if Path(want).suffix.lower() == suffix:
                name = odd.pop(0)
        b.put(f"good/{i % 4}/{name}" if i % 2 else name, data, f"good_{fmt}", GOOD)
    b.put(_long_name(".txt"), next(d for _, d, f in good if f == "txt"), "long_name", GOOD)
    b.put(_long_name(".pdf"), b"", "long_name_empty", QUAR, {"empty"})
    # Windows-1258 text is read since issue 13; the name's bytes are what this case is about
    b.put(b"legacy \xff\xfe name.txt", "Báo cáo".encode("cp1258"), "non_utf8_name", ANY_END, {"bad_encoding"})
    b.put(b"legacy \xe9 good.pdf", pdfs[0], "non_utf8_name_good", GOOD)

    # The same report twice under different names; the same name twice with different bytes.
    for i in range(max(2, files // 50)):
        name, data, fmt = good[i % len(good)]
        b.put(f"copies/copy {i} of {name}", data, "duplicate_bytes", GOOD)
    for i in range(max(2, files // 50)):
        for folder in ("xa_a", "xa_b"):
            name, data, fmt = good[rng.randrange(len(good))]
            b.put(f"{folder}/same_name_{i}{Path(name).suffix}", data, "same_name", GOOD)

    secret = outside / "secret.txt"
    secret.write_text("BÍ MẬT của tỉnh", encoding="utf-8")
    bomb_260 = zeros_bomb_docx(docxs[0], 260)  # built once: each copy differs by its zip comment
    bomb_ratio = zeros_bomb_docx(docxs[0], 20)
    flate = flate_bomb_pdf(400)
    many = many_entries_docx(docxs[0], 10_050)
    enc = encrypted_pdf("Tổng số hồ sơ tiếp nhận là 5.676 hồ sơ.")

    def comment(data: bytes, i: int) -> bytes:
        """Distinct bytes, same archive: a zip comment patched into the end record (re-zipping
        a 260 MB bomb each time would take seconds)."""
        if data[-22:-18] != b"PK\x05\x06":
            raise ValueError("expected an end-of-central-directory record without a comment")
        text = f"fuzz {i}".encode()
        return data[:-2] + struct.pack("<H", len(text)) + text

    makers: list[tuple[str, str, Callable[[int], bytes], frozenset[str], set[str] | None]] = [
        ("zero_byte", ".pdf", lambda i: b"", QUAR, {"empty"}),
        ("zero_byte", ".docx", lambda i: b"", QUAR, {"empty"}),
        ("zero_byte", ".txt", lambda i: b"", QUAR, {"empty"}),
        ("truncated_pdf", ".pdf", lambda i: (d := rng.choice(pdfs))[: rng.randrange(20, len(d) - 40)],
         QUAR, {"corrupt"}),
        ("flipped_pdf", ".pdf", lambda i: flip_bytes(rng.choice(pdfs), rng, rng.choice([1, 4, 32, 256])),
         ANY_END, None),
        ("encrypted_pdf", ".pdf", lambda i: enc + b"%% %d\n" % i, QUAR, {"encrypted"}),
        ("zero_page_pdf", ".pdf", lambda i: zero_page_pdf() + b"%% %d\n" % i, QUAR, {"empty"}),
        ("claims_100000_pages", ".pdf", lambda i: lying_page_count(one_page) + b"%% %d\n" % i,
         QUAR, {"too_many_pages"}),
        ("docx_not_zip", ".docx", lambda i: rng.choice([b"%PDF-1.4 ", "Báo cáo ".encode()]) + os.urandom(200),
         QUAR, {"corrupt"}),
        ("flipped_docx", ".docx", lambda i: flip_bytes(rng.choice(docxs), rng, rng.choice([1, 8, 64])),
         ANY_END, None),
        ("zip_bomb_size", ".docx", lambda i: comment(bomb_260, i), QUAR, {"zip_bomb"}),
        ("zip_bomb_ratio", ".docx", lambda i: comment(bomb_ratio, i), QUAR, {"zip_bomb"}),
        ("zip_bomb_nested", ".docx", lambda i: nested_bomb_docx(rng.choice(docxs), comment(bomb_260, i)),
         ANY_END, {"zip_bomb"}),
        ("zip_many_entries", ".docx", lambda i: comment(many, i),
         QUAR, {"zip_bomb"}),
        ("zip_lying_sizes", ".docx", lambda i: lying_size_docx(rng.choice(docxs), 64), QUAR, None),
        ("docx_entities", ".docx", lambda i: entity_docx(rng.choice(docxs), secret), ANY_END, None),
        ("docx_external_links", ".docx", lambda i: external_links_docx(rng.choice(docxs), port), GOOD, None),
        ("pdf_javascript_urls", ".pdf", lambda i: active_pdf(port) + b"%% %d\n" % i, ANY_END, None),
        ("pdf_flate_bomb", ".pdf", lambda i: flate + b"%% %d\n" % i, QUAR, {"zip_bomb"}),
        ("pdf_giant_page", ".pdf", lambda i: giant_page_pdf() + b"%% %d\n" % i, QUAR, {"ocr_failed"}),
        # Windows-1258 is converted (issue 13); UTF-16 without a BOM and Latin-1 with lost letters are not
        ("txt_wrong_encoding", ".txt", lambda i: _legacy_text(i, rng), ANY_END, {"bad_encoding"}),
        ("binary_as_report", ".docx", lambda i: os.urandom(rng.randrange(1, 5000)), QUAR, {"corrupt"}),
        ("binary_as_report", ".txt", lambda i: bytes([0x80 + rng.randrange(64)]) + os.urandom(300),
         QUAR, {"bad_encoding"}),
        ("binary_as_report", ".pdf", lambda i: b"\x7fELF" + os.urandom(3000), QUAR, {"corrupt"}),
    ]
    total_bad = max(len(makers), files - len(b.inbox.planted))
    for i in range(total_bad):
        kind, suffix, make, outcomes, codes = makers[i % len(makers)]
        folder = f"bad/{i % 7}/" if i % 3 else ""
        b.put(f"{folder}{kind}_{i:04d}{suffix}", make(i), kind, outcomes, codes)

    # Symlinks out of the inbox: to a file, to a folder, and a dangling one.
    target = outside / "bc_ngoai_hop_thu.txt"
    target.write_bytes(good[2][1] if good[2][2] == "txt" else "BÁO CÁO ngoài hộp thư".encode())
    links = {root / "link_to_outside.txt": target, root / "link_to_secret.txt": secret,
             root / "link_dir": outside, root / "dangling.pdf": outside / "missing.pdf",
             root / "link_to_etc_passwd.txt": Path("/etc/passwd")}
    for link, dest in links.items():
        link.symlink_to(dest)
        b.inbox.symlinks[str(link)] = _sha(dest) if dest.is_file() else ""
    return b.inbox


def _sha(path: Path) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError:
        return ""


# -- verification ------------------------------------------------------------------------

def _code_of(reason: str | None) -> str | None:
    return reason.split(":", 1)[0].strip() if reason else None


def _same_text(outcome) -> bool:
    """Other bytes with the text of a loaded version (a flipped bit in a DOCX's zip padding) are
    unchanged without a row of their own."""
    return outcome.outcome == UNCHANGED and (outcome.reason or "").startswith("same text as")


def verify(inbox: HostileInbox, summary, warehouse: Path, archive_root: Path) -> list[str]:
    """Every planted file in exactly one allowed place; nothing else moved, added or followed."""
    import duckdb

    problems: list[str] = []
    by_path: dict[str, list] = {}
    for o in summary.outcomes:
        by_path.setdefault(o.path, []).append(o)
    planted_paths = {p.path for p in inbox.planted}
    for path in by_path:
        if path not in planted_paths and path not in inbox.symlinks:
            problems.append(f"outcome for a file that was not planted: {path!r}")
    # Symlinks out of the inbox get one line each: skipped, with the reason, never read or moved.
    for link in inbox.symlinks:
        outs = by_path.get(link, [])
        if [o.outcome for o in outs] != [SKIPPED] or outs[0].archived_to:
            problems.append(f"symlink {link!r}: {[(o.outcome, o.reason) for o in outs]}, want one skipped")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = {h for (h,) in con.execute("SELECT sha256 FROM document_versions").fetchall()}
        quarantined = {h for (h,) in con.execute("SELECT sha256 FROM quarantine_rows").fetchall()}
        run_rows = con.execute("SELECT count(*) FROM run_files WHERE run_id = ?",
                               [summary.run_id]).fetchone()[0]
        status = con.execute("SELECT status FROM runs WHERE run_id = ?", [summary.run_id]).fetchone()
    finally:
        con.close()
    if run_rows != len(inbox.planted) + len(inbox.symlinks):
        problems.append(f"run_files has {run_rows} rows for {len(inbox.planted)} files "
                        f"and {len(inbox.symlinks)} symlinks")
    if not status or status[0] != "ok":
        problems.append(f"run {summary.run_id} status {status}")

    loaded_per_sha: Counter = Counter()
    for p in inbox.planted:
        outs = by_path.get(p.path, [])
        label = f"{p.kind} {p.path!r}"
        if len(outs) != 1:
            problems.append(f"{label}: {len(outs)} outcomes")
            continue
        o = outs[0]
        code = _code_of(o.reason) if o.outcome == QUARANTINED else None
        if not p.allows(o.outcome, code):
            problems.append(f"{label}: {o.outcome} ({o.reason}) not allowed")
        if os.path.lexists(p.path):
            problems.append(f"{label}: still in the inbox after {o.outcome}")
        if not o.archived_to or not os.path.isfile(o.archived_to):
            problems.append(f"{label}: not archived ({o.archived_to!r}; {o.reason})")
            continue
        archived = Path(o.archived_to)
        if _sha(archived) != p.sha256:
            problems.append(f"{label}: archived bytes differ")
        folder = "quarantine" if o.outcome == QUARANTINED else "processed"
        if archive_root.resolve() / folder not in archived.resolve().parents:
            problems.append(f"{label}: archived outside {folder}/: {archived}")
        if o.outcome == QUARANTINED:
            reason_file = Path(str(archived) + ".reason.txt")
            if not reason_file.is_file() or (code or "") not in reason_file.read_text(encoding="utf-8"):
                problems.append(f"{label}: no reason file with its code")
            if p.sha256 not in quarantined:
                problems.append(f"{label}: no quarantine row")
        elif p.sha256 not in loaded and not _same_text(o):
            problems.append(f"{label}: {o.outcome} but its hash is not in document_versions")
        if o.outcome == LOADED:
            loaded_per_sha[p.sha256] += 1
    for sha, n in loaded_per_sha.items():
        if n > 1:
            problems.append(f"bytes {sha[:12]} loaded {n} times")

    # Nothing but the planted files (and their reason files) in the archive.
    archived_files = [f for f in archive_root.rglob("*")
                      if f.is_file() and not f.name.endswith(".reason.txt")]
    if len(archived_files) != len(inbox.planted):
        problems.append(f"archive holds {len(archived_files)} files for {len(inbox.planted)} planted")
    expected = {os.path.realpath(o.archived_to) for o in summary.outcomes if o.archived_to}
    for f in archived_files:
        if os.path.realpath(f) not in expected:
            problems.append(f"unexpected file in the archive: {f}")
    # Nothing left in the inbox but the symlinks.
    for folder, _dirs, names in os.walk(inbox.root):
        for name in names:
            path = os.path.join(folder, name)
            if path not in inbox.symlinks:
                problems.append(f"left in the inbox: {path!r}")
    for link, sha in inbox.symlinks.items():
        if not os.path.islink(link):
            problems.append(f"symlink {link} was moved or replaced")
        elif sha and _sha(Path(os.readlink(link))) != sha:
            problems.append(f"target of {link} changed")
    if not (inbox.outside / "secret.txt").is_file():
        problems.append("a file outside the inbox was moved")
    return problems


# -- running -----------------------------------------------------------------------------

@dataclass
class FuzzReport:
    files: int
    seed: int
    workers: int
    build_seconds: float
    ingest_seconds: float
    counts: dict[str, int]
    codes: dict[str, int]
    kinds: dict[str, dict[str, int]]
    max_file_seconds: float
    slowest_file: str
    peak_rss_mb: float
    peak_child_rss_mb: float
    connections: int
    problems: list[str]

    def as_dict(self) -> dict:
        return asdict(self)


def _peak_rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # Linux reports KiB


def _connections(listener: socket.socket) -> int:
    count = 0
    while select.select([listener], [], [], 0)[0]:
        conn, _ = listener.accept()
        conn.close()
        count += 1
    return count


def ingest_child(workdir: Path, workers: int) -> None:
    """Run in a fresh process by run_fuzz: ingest workdir/inbox and pickle the summary with this
    process's peak RSS (and that of its children: extraction workers, tesseract)."""
    from commune_metrics.ingest.inbox import ingest
    from commune_metrics.ingest.parallel import make_processor

    # The product's own executor (what `commune-metrics ingest --workers N` runs), so the
    # fuzzer proves the pool users get, not a test double.
    started = time.perf_counter()
    with make_processor(workers) as pool:
        summary = ingest([workdir / "inbox"], warehouse=workdir / "warehouse.duckdb",
                         archive_root=workdir / "archive", process_many=pool, trigger="fuzz",
                         settle_seconds=0, inbox=workdir / "inbox")
    result = {"summary": summary, "seconds": time.perf_counter() - started,
              "rss": _peak_rss_mb(resource.RUSAGE_SELF), "child_rss": _peak_rss_mb(resource.RUSAGE_CHILDREN)}
    (workdir / "summary.pickle").write_bytes(pickle.dumps(result))


def run_fuzz(files: int = 1000, seed: int = 0, workdir: Path | None = None, workers: int = 1,
             scans: int | None = None, timeout: float | None = None) -> FuzzReport:
    """Build a hostile inbox under `workdir`, ingest it in a child process (so its peak RSS is
    the ingest's alone, and a hang is caught by `timeout`), then verify."""
    import duckdb

    workdir = Path(workdir or tempfile.mkdtemp(prefix="cm-fuzz-"))
    warehouse, archive_root = workdir / "warehouse.duckdb", workdir / "archive"
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    problems: list[str] = []
    try:
        started = time.perf_counter()
        inbox = build_inbox(workdir / "inbox", files, seed, workdir / "outside",
                            listener.getsockname()[1], scans)
        built = time.perf_counter() - started
        timeout = timeout or 120 + 3.0 * len(inbox.planted)
        cmd = [sys.executable, "-m", "tools.fuzz", "--ingest-child", str(workdir),
               "--workers", str(workers)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            problems.append(f"ingest did not finish within {timeout:g} s (hang)")
            proc = None
        if proc is not None and proc.returncode != 0:
            problems.append(f"ingest exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
        child = pickle.loads((workdir / "summary.pickle").read_bytes()) if not problems else None
        connections = _connections(listener)
        if connections:
            problems.append(f"{connections} connection(s) reached 127.0.0.1 from documents")
    finally:
        listener.close()
    if child is None:
        return FuzzReport(len(inbox.planted), seed, workers, round(built, 1), 0.0, {}, {}, {}, 0.0, "",
                          0.0, 0.0, connections, problems)
    summary = child["summary"]
    problems += verify(inbox, summary, warehouse, archive_root)

    kinds: dict[str, Counter] = {}
    codes: Counter = Counter()
    by_path = {o.path: o for o in summary.outcomes}
    for p in inbox.planted:
        o = by_path.get(p.path)
        kinds.setdefault(p.kind, Counter())[o.outcome if o else "missing"] += 1
        if o and o.outcome == QUARANTINED:
            codes[_code_of(o.reason)] += 1
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        slow = con.execute("SELECT source_file, seconds FROM run_files WHERE run_id = ? "
                           "ORDER BY seconds DESC NULLS LAST LIMIT 1", [summary.run_id]).fetchone()
    finally:
        con.close()
    return FuzzReport(
        files=len(inbox.planted), seed=seed, workers=workers, build_seconds=round(built, 1),
        ingest_seconds=round(child["seconds"], 1), counts=dict(summary.counts), codes=dict(codes),
        kinds={k: dict(v) for k, v in sorted(kinds.items())},
        max_file_seconds=round(float(slow[1] or 0), 2) if slow else 0.0,
        slowest_file=slow[0] if slow else "", peak_rss_mb=child["rss"],
        peak_child_rss_mb=child["child_rss"], connections=connections, problems=problems,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="how many files to plant (at least)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1, help="extraction processes")
    parser.add_argument("--scans", type=int, default=None, help="scanned (OCR) reports among the good ones")
    parser.add_argument("--workdir", type=Path, help="keep inbox, archive and warehouse here")
    parser.add_argument("--max-rss-mb", type=float, default=1500, help="fail above this peak RSS")
    parser.add_argument("--max-file-seconds", type=float, default=60, help="fail when one file takes longer")
    parser.add_argument("--timeout", type=float, default=None, help="seconds before the ingest is hung")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--ingest-child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.ingest_child:
        ingest_child(args.ingest_child, args.workers)
        return 0
    keep = args.workdir is not None
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cm-fuzz-"))
    if keep and workdir.exists() and any(workdir.iterdir()):
        parser.error(f"{workdir} is not empty")
    try:
        report = run_fuzz(args.files, args.seed, workdir, args.workers, args.scans, args.timeout)
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
    peak = max(report.peak_rss_mb, report.peak_child_rss_mb)
    if peak > args.max_rss_mb:
        report.problems.append(f"peak RSS {peak:.0f} MB over {args.max_rss_mb:g} MB")
    if report.max_file_seconds > args.max_file_seconds:
        report.problems.append(f"{report.slowest_file!r} took {report.max_file_seconds} s "
                               f"(limit {args.max_file_seconds:g} s)")
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    else:
        print(f"{report.files} files, built in {report.build_seconds} s, ingested in "
              f"{report.ingest_seconds} s with {report.workers} worker(s)")
        print("outcomes: " + ", ".join(f"{v} {k}" for k, v in sorted(report.counts.items())))
        print("quarantine codes: " + ", ".join(f"{v} {k}" for k, v in sorted(report.codes.items())))
        for kind, counts in report.kinds.items():
            print(f"  {kind:<22} " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
        print(f"slowest file {report.max_file_seconds} s ({report.slowest_file!r}); peak RSS "
              f"{report.peak_rss_mb} MB (children {report.peak_child_rss_mb} MB); "
              f"connections to the listener: {report.connections}")
        print("problems: none" if not report.problems else f"{len(report.problems)} PROBLEMS:")
        for problem in report.problems[:50]:
            print("  " + problem)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
