"""Typed errors for files the pipeline refuses. Each carries a short code (stored in the
warehouse's quarantine table) and a human-readable reason (shown to analysts)."""

from __future__ import annotations


class SetupError(Exception):
    """The installation or configuration stops a command before it starts (e.g. the Prefect
    home folder cannot be created). Reported as one line; no file is touched."""


class ReaderError(Exception):
    """A file that cannot be turned into a Document. Never fatal to a batch."""

    code = "unreadable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.code}: {self.reason}"


class EmptyFileError(ReaderError):
    code = "empty"


class CorruptFileError(ReaderError):
    code = "corrupt"


class EncryptedFileError(ReaderError):
    code = "encrypted"


class UnsupportedFormatError(ReaderError):
    code = "unsupported"


class FileTooLargeError(ReaderError):
    code = "too_large"


class TooManyPagesError(ReaderError):
    code = "too_many_pages"


class EncodingError(ReaderError):
    code = "bad_encoding"


class ZipBombError(ReaderError):
    code = "zip_bomb"


class OcrError(ReaderError):
    code = "ocr_failed"


class UnsafePathError(ReaderError):
    """A member of an archive whose path would land outside its folder, or a symlink."""

    code = "unsafe_path"


class ToolMissingError(ReaderError):
    """A reader's external tool (catdoc/antiword for .doc) is not installed: not the file's fault."""

    code = "reader_missing"
