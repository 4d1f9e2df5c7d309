"""Refuse PDF compression bombs before PDFium or pdfminer parse them.

A 1 MB PDF can hold a /FlateDecode content stream that inflates to 600 MB of drawing
operators; PDFium then builds millions of path objects (measured: ~20 MB of RSS and ~0.35 s
per inflated MB, pdfminer far more). Each Flate stream is inflated here in bounded chunks
that are counted and thrown away, so the check itself holds at most one chunk in memory and
stops as soon as a limit is passed.

Limits (commune_metrics.core.config.Limits):
- a non-image stream (page content, fonts, object streams) inflates to at most max_pdf_stream_mb;
- all non-image streams together to at most max_decompressed_mb;
- one image stream to at most max_decompressed_mb (scans are large but inflate page by page).
A stream whose filter chain applies Flate twice is refused outright: no writer needs it.
"""

from __future__ import annotations

import re
import zlib

from commune_metrics.core.config import Limits
from commune_metrics.core.errors import ZipBombError

_MB = 1024 * 1024
_CHUNK_IN = 64 * 1024
_CHUNK_OUT = 1 * _MB
_STREAM = re.compile(rb"stream(?:\r\n|\n|\r)")
_DICT_WINDOW = 64 * 1024  # how far back from `stream` to look for the object's dictionary
_FLATE = re.compile(rb"/(?:FlateDecode|Fl)\b")
_IMAGE = re.compile(rb"/Subtype\s*/Image\b")


def _inflated_size(data: bytes, start: int, stop_after: int) -> int:
    """Bytes a zlib stream starting at data[start] inflates to, counting at most
    `stop_after` + one chunk. Damaged data ends the count (PDFium would stop there too)."""
    inflater = zlib.decompressobj()
    total = 0
    pos = start
    try:
        while pos < len(data) and not inflater.eof and total <= stop_after:
            chunk = data[pos:pos + _CHUNK_IN]
            pos += len(chunk)
            total += len(inflater.decompress(chunk, _CHUNK_OUT))
            while inflater.unconsumed_tail and not inflater.eof and total <= stop_after:
                total += len(inflater.decompress(inflater.unconsumed_tail, _CHUNK_OUT))
    except zlib.error:
        pass
    return total


def check_pdf_streams(data: bytes, name: str, limits: Limits) -> None:
    """Raise ZipBombError when a Flate stream of the PDF would inflate past a limit."""
    per_stream = int(limits.max_pdf_stream_mb * _MB)
    per_image = int(limits.max_decompressed_mb * _MB)
    total_limit = int(limits.max_decompressed_mb * _MB)
    total = 0
    for match in _STREAM.finditer(data):
        begin = match.start()
        if data[begin - 3:begin] == b"end":  # `endstream`
            continue
        head_start = max(0, data.rfind(b"obj", max(0, begin - _DICT_WINDOW), begin))
        head = data[head_start:begin]
        filters = _FLATE.findall(head)
        if not filters:
            continue
        if len(filters) > 1:
            raise ZipBombError(f"{name} has a stream compressed twice over (nested /FlateDecode)")
        image = _IMAGE.search(head) is not None
        limit = per_image if image else min(per_stream, total_limit - total)
        size = _inflated_size(data, match.end(), limit)
        if size > limit:
            what = "an image" if image else "a content stream"
            if not image and size <= per_stream:
                raise ZipBombError(
                    f"{name}: its compressed streams would expand to over "
                    f"{limits.max_decompressed_mb:g} MB in all (compression bomb)")
            cap = limits.max_decompressed_mb if image else limits.max_pdf_stream_mb
            raise ZipBombError(f"{name}: {what} would expand to over {cap:g} MB (compression bomb)")
        if not image:
            total += size
