"""Old Word files (.doc, Word 97-2003) through catdoc, with antiword as the fallback.

Both are small offline command-line tools (Debian packages `catdoc`, `antiword`; `make setup`
installs them as root). They run without a shell, with a time limit, on the file's path; a
crash or a refusal of both is a quarantine reason, never an exception out of the batch.
Text typed in legacy fonts comes out as Windows-1252 letters and is converted afterwards like
any reader's text (legacy_text).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from commune_metrics.core.document import RawDocument, RawPage
from commune_metrics.core.errors import CorruptFileError, EmptyFileError, EncryptedFileError, ToolMissingError
from commune_metrics.readers.common import sha256_bytes

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_TIMEOUT_SECONDS = 60
# catdoc: -d utf-8 output charset, -w no wrapping (one line per paragraph);
# antiword: -m UTF-8.txt output mapping, -w 0 no wrapping.
_TOOLS = (("catdoc", ["-d", "utf-8", "-w"]), ("antiword", ["-m", "UTF-8.txt", "-w", "0"]))


def _run(tool: str, args: list[str], path: Path) -> tuple[str | None, str]:
    exe = shutil.which(tool)
    if exe is None:
        return None, f"{tool} is not installed"
    try:
        done = subprocess.run([exe, *args, str(path)], capture_output=True, timeout=_TIMEOUT_SECONDS,
                              check=False, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return None, f"{tool} took over {_TIMEOUT_SECONDS} s"
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, f"{tool} failed ({err[-1] if err else f'exit {done.returncode}'})"
    text = done.stdout.decode("utf-8", "replace")
    return (text, "") if text.strip() else (None, f"{tool} found no text")


def read_doc(path: Path, data: bytes) -> RawDocument:
    name = path.name
    if not data.startswith(_OLE_MAGIC):
        if data.startswith(b"PK"):
            raise CorruptFileError(f"{name} is a .docx (zip) renamed to .doc; rename it to .docx")
        if data.lstrip()[:5].lower() == b"{\\rtf":
            raise CorruptFileError(f"{name} is an RTF file renamed to .doc; save it as .docx")
        raise CorruptFileError(f"{name} is not a Word 97-2003 document (no OLE header)")
    if "EncryptionInfo".encode("utf-16-le") in data or b"Encrypt" in data[:4096]:
        raise EncryptedFileError(f"{name} is a password-protected Word document")
    problems = []
    for tool, args in _TOOLS:
        text, problem = _run(tool, args, path)
        if text is not None:
            return RawDocument(source_name=name, sha256=sha256_bytes(data), file_type="doc",
                               pages=[RawPage(text=text.replace("\f", "\n"))], paginated=False)
        problems.append(problem)
    if all("not installed" in p for p in problems):
        raise ToolMissingError(f"{name}: .doc files need catdoc or antiword, and neither is installed "
                               "(apt-get install catdoc antiword, or `make setup` as root)")
    if all("no text" in p for p in problems):
        raise EmptyFileError(f"{name} has no text")
    raise CorruptFileError(f"{name} cannot be read as a Word 97-2003 document: {'; '.join(problems)}")
