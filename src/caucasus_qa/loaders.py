"""Read a document file into text and metadata: .txt/.md (decoded), .html/.htm (trafilatura, webpage.py),
.pdf (pdfplumber, pdf.py), .docx (python-docx, word.py).

Every failure is a :class:`~caucasus_qa.errors.DocumentError` whose one-line message starts with the path.
The text is returned raw (not cleaned): :func:`caucasus_qa.parse.parse_document` cleans it.
"""

from __future__ import annotations

import codecs
import logging
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import DocumentError
from .pages import strip_pages
from .settings import SUPPORTED_EXTENSIONS

__all__ = ["LoadedDocument", "decode_bytes", "load_document", "read_text"]

log = logging.getLogger(__name__)

# Parsing and chunking are linear but not free (~10 s per MB on 2 cores, then embedding): a document
# longer than this (some 5,000 pages) is refused with a message rather than left to run for an hour.
MAX_DOCUMENT_CHARS = 10_000_000


def _is_plausible_text(text: str) -> bool:
    """Mostly letters, digits, punctuation and whitespace; few control or private-use characters."""
    if not text:
        return False
    bad = sum(
        1 for ch in text if unicodedata.category(ch) in {"Cc", "Co", "Cn", "Cs"} and ch not in "\n\r\t\f"
    )
    return bad <= max(2, len(text) // 200)


def decode_bytes(data: bytes, path: Path | str = "<bytes>") -> str:
    """utf-8 / utf-8-sig, then utf-16 with a BOM, then cp1252 (byte by byte where UTF-8 fails, so a
    file of mixed encodings keeps its UTF-8 parts) if the result reads as text."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DocumentError(path, f"invalid UTF-8 after a UTF-8 BOM at byte {exc.start}") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(path, f"invalid UTF-16 at byte {exc.start}") from None
    if b"\x00" in data:
        raise DocumentError(path, "binary content (NUL bytes), not a text document")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # cp1252, or UTF-8 with cp1252 pieces pasted in (mixed encodings): each byte that is not valid
    # UTF-8 is read as cp1252
    try:
        text = data.decode("utf-8", errors=_CP1252_FALLBACK)
    except UnicodeDecodeError:
        raise DocumentError(path, "bytes decode neither as UTF-8, UTF-16 (BOM) nor cp1252") from None
    if not _is_plausible_text(text):
        raise DocumentError(path, "binary content, not a text document")
    log.info("%s: not UTF-8, bytes outside UTF-8 decoded as cp1252", path)
    return text


def _cp1252_fallback(err: UnicodeError) -> tuple[str, int]:
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("cp1252"), err.end  # undefined in cp1252: raises


_CP1252_FALLBACK = "caucasus_qa.cp1252"
codecs.register_error(_CP1252_FALLBACK, _cp1252_fallback)


@dataclass(frozen=True)
class LoadedDocument:
    """What a reader got from a file: the text for the parser, and metadata the file itself states
    (title, authors, date, url, venue) that the parser puts in the record before catalog values."""

    text: str
    meta: dict[str, Any] = field(default_factory=dict)


def read_text(path: Path) -> str:
    """The text of one document (see :func:`load_document`) without page marks; DocumentError on bad
    input."""
    return strip_pages(load_document(path).text)


def load_document(path: Path) -> LoadedDocument:
    """Text and metadata of one document, dispatched on its extension; DocumentError on bad input."""
    path = Path(path)
    if not path.exists():
        raise DocumentError(path, "no such file")
    if path.is_dir():
        raise DocumentError(path, "is a directory, not a document")
    ext = path.suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise DocumentError(
            path, f"unsupported extension {ext or '(none)'!r}; use {', '.join(SUPPORTED_EXTENSIONS)}"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(path, f"cannot read ({exc.strerror or exc})") from None
    if not data.strip():
        raise DocumentError(path, "empty file")
    meta: dict[str, Any] = {}
    if ext == ".pdf":
        if not data.lstrip()[:5] == b"%PDF-":
            raise DocumentError(path, "not a PDF (no %PDF header)")
        from .pdf import read_pdf

        text, meta = read_pdf(path)
    elif ext == ".docx":
        from .word import read_docx

        text, meta = read_docx(path, data)
    else:
        text = strip_pages(decode_bytes(data, path))  # page marks are the PDF reader's alone
        if ext in (".html", ".htm"):
            from .webpage import read_html

            text, meta = read_html(text, path)
    if not text.replace("\ufeff", "").strip():
        raise DocumentError(path, "no text content (whitespace only)")
    if len(text) > MAX_DOCUMENT_CHARS:
        raise DocumentError(
            path,
            f"{len(text) / 1e6:.1f} million characters of text, more than the limit of "
            f"{MAX_DOCUMENT_CHARS // 1_000_000} million for one document; split it into parts",
        )
    return LoadedDocument(text, meta)
