"""Write a minimal Word 97-2003 (.doc) file from plain text, for tests of the .doc reader.

No office suite is needed (none is installed offline): the file is built here byte by byte,
following [MS-CFB] (the OLE2 compound file) and [MS-DOC] (the File Information Block and the
piece table): a WordDocument stream holding the FIB and the text in UTF-16 at offset 0x800,
and a 1Table stream holding the piece table (one piece covering all text). Streams are padded
to 4 KiB so they live in ordinary sectors (no mini stream). catdoc reads the text range from
the FIB's fcMin/fcMac, antiword from the piece table; both are filled in.

    python -m tools.word97 in.txt out.doc
"""

from __future__ import annotations

import struct
import sys
from pathlib import Path

SECTOR = 512
FREE, END, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
TEXT_OFFSET = 0x800
MIN_STREAM = 4096  # smaller streams would belong in the mini stream


def _fib(text_chars: int, clx_size: int) -> bytes:
    fc_min, fc_mac = TEXT_OFFSET, TEXT_OFFSET + 2 * text_chars
    flags = 0x1000 | 0x0200  # fExtChar (Unicode text), fWhichTblStm (the table stream is 1Table)
    base = struct.pack("<HHHHHHHIBBHHII", 0xA5EC, 0x00C1, 0, 0x042A, 0, flags, 0x00BF, 0, 0, 0, 0, 0,
                       fc_min, fc_mac)
    rg_w = struct.pack("<H", 14) + bytes(28)
    lw = [0] * 22
    lw[0] = fc_mac  # cbMac
    lw[3] = text_chars  # ccpText
    rg_lw = struct.pack("<H", 22) + struct.pack("<22i", *lw)
    fc_lcb = [0] * (93 * 2)
    fc_lcb[33 * 2], fc_lcb[33 * 2 + 1] = 0, clx_size  # fcClx / lcbClx: the piece table in 1Table
    rg_fc = struct.pack("<H", 93) + struct.pack(f"<{93 * 2}I", *fc_lcb)
    return base + rg_w + rg_lw + rg_fc + struct.pack("<H", 0)


def _clx(text_chars: int) -> bytes:
    plc = struct.pack("<II", 0, text_chars) + struct.pack("<HIH", 0, TEXT_OFFSET, 0)  # CPs, one PCD (UTF-16)
    return b"\x02" + struct.pack("<I", len(plc)) + plc


def _pad(data: bytes, size: int) -> bytes:
    return data + bytes(max(size, -(-len(data) // SECTOR) * SECTOR) - len(data))


def _dir_entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
    encoded = (name + "\0").encode("utf-16-le")
    return (encoded.ljust(64, b"\0") + struct.pack("<HBB", len(encoded), kind, 1)
            + struct.pack("<III", left, right, child) + bytes(16) + bytes(4) + bytes(16)
            + struct.pack("<IIH", start, size, 0) + bytes(2))


def word97_bytes(text: str) -> bytes:
    """The .doc file for `text` (paragraphs separated by newlines)."""
    body = text.replace("\r\n", "\n").replace("\n", "\r")
    if not body.endswith("\r"):
        body += "\r"
    chars = len(body)
    clx = _clx(chars)
    word = _pad(_fib(chars, len(clx)).ljust(TEXT_OFFSET, b"\0") + body.encode("utf-16-le"), MIN_STREAM)
    table = _pad(clx, MIN_STREAM)
    word_sectors, table_sectors = len(word) // SECTOR, len(table) // SECTOR
    dir_sector = word_sectors + table_sectors  # after both streams
    fat_sector = dir_sector + 1
    fat = []
    for start, count in ((0, word_sectors), (word_sectors, table_sectors)):
        fat += [start + i + 1 for i in range(count - 1)] + [END]
    fat += [END, FATSECT]
    fat += [FREE] * (SECTOR // 4 - len(fat))
    directory = (_dir_entry("Root Entry", 5, NOSTREAM, NOSTREAM, 1, END, 0)
                 # names compare by length first: "1Table" sorts before "WordDocument", so it is
                 # the left child in the red-black tree of the root's children
                 + _dir_entry("WordDocument", 2, 2, NOSTREAM, NOSTREAM, 0, len(word))
                 + _dir_entry("1Table", 2, NOSTREAM, NOSTREAM, NOSTREAM, word_sectors, len(table))
                 + bytes(128))
    header = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16)
              + struct.pack("<HHHHH", 0x003E, 0x0003, 0xFFFE, 9, 6) + bytes(6)
              + struct.pack("<IIIIIIII", 0, 1, dir_sector, 0, MIN_STREAM, END, 0, END) + struct.pack("<I", 0))
    difat = [fat_sector] + [FREE] * 108
    header = header[:0x4C] + struct.pack("<109I", *difat)
    return header + word + table + directory + struct.pack(f"<{SECTOR // 4}I", *fat)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(__doc__)
        return 2
    Path(args[1]).write_bytes(word97_bytes(Path(args[0]).read_text(encoding="utf-8")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
