"""Validate, sanitise and ingest uploaded documents. No Gradio here: the Library tab calls these.

A failed upload leaves the index as it was: the copied file is deleted and the Assistant's ingest
plans every document before it writes anything.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import CaucasusQAError, DocumentError
from ..settings import SUPPORTED_EXTENSIONS

MAX_STEM = 80
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class _Ingests(Protocol):
    def ingest(self, paths: list[Path]) -> object: ...


def sanitize_filename(name: str) -> str:
    """A safe file name from an uploaded name: no directories, no shell characters, a readable stem.

    ``"../../etc/passwd.txt"`` → ``"passwd.txt"``;
    ``"my report (v2);rm -rf.md"`` → ``"my_report_v2_rm_-rf.md"``.
    Raises :class:`DocumentError` when nothing usable is left.
    """
    base = re.split(r"[\\/]", name.replace("\x00", ""))[-1]
    base = "".join(  # accents dropped, other non-ASCII characters become separators
        ch if ch.isascii() else "_"
        for ch in unicodedata.normalize("NFKD", base)
        if unicodedata.category(ch) != "Mn"
    )
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _UNSAFE.sub("_", stem).strip("._-")
    stem = re.sub(r"_{2,}", "_", stem)[:MAX_STEM].rstrip("._-")
    ext = _UNSAFE.sub("", ext).lower()
    if not stem:
        raise DocumentError(name or "(unnamed)", "file name has no usable characters; rename the file")
    return f"{stem}.{ext}" if ext else stem


@dataclass(frozen=True)
class Accepted:
    source: Path  # where the upload lies now (Gradio's temporary file)
    name: str  # sanitised file name it will get under uploads/


def validate_upload(path: Path, original_name: str, max_mb: float) -> Accepted:
    """Check extension, size and content of one uploaded file; one-line :class:`DocumentError` if bad."""
    name = sanitize_filename(original_name)
    ext = Path(name).suffix.lower()
    if ext not in SUPPORTED_EXTENSIONS:
        raise DocumentError(
            name,
            f"unsupported file type {ext or '(none)'!r}; upload one of {', '.join(SUPPORTED_EXTENSIONS)}",
        )
    try:
        size = path.stat().st_size
    except OSError as err:
        raise DocumentError(name, f"upload cannot be read ({err.strerror or err})") from err
    if size == 0:
        raise DocumentError(name, "empty file")
    limit = int(max_mb * 1024 * 1024)
    if size > limit:
        raise DocumentError(name, f"{size / 1048576:.1f} MB, more than the upload limit of {max_mb:g} MB")
    with path.open("rb") as fh:
        head = fh.read(64 * 1024)
    if ext == ".pdf":
        if not head.lstrip()[:5] == b"%PDF-":
            raise DocumentError(name, "not a PDF file (no %PDF- header)")
    elif ext == ".docx":
        if not head.startswith(b"PK\x03\x04"):
            raise DocumentError(name, "not a Word file (.docx is a zip package; this is not one)")
    else:
        if _looks_binary(head):
            raise DocumentError(name, "binary content, not a text document")
        if not head.decode("utf-8", "ignore").strip():
            raise DocumentError(name, "no text in the file")
    return Accepted(path, name)


def _looks_binary(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM is text
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return controls > max(2, len(head) // 100)


def upload_dir(store_dir: Path) -> Path:
    d = store_dir / "uploads"
    d.mkdir(parents=True, exist_ok=True)
    return d


def ingest_upload(qa: _Ingests, accepted: Accepted, store_dir: Path, known_ids: set[str]) -> Path:
    """Copy into ``<store_dir>/uploads/`` and ingest; on any failure delete the copy and re-raise."""
    from ..ingest import doc_id_for

    dest = upload_dir(store_dir) / accepted.name
    doc_id = doc_id_for(dest)
    if doc_id in known_ids or dest.exists():
        raise DocumentError(
            accepted.name, f"a document with id {doc_id!r} already exists; remove it first or rename the file"
        )
    try:
        with dest.open("xb") as out, accepted.source.open("rb") as src:
            while block := src.read(1 << 20):
                out.write(block)
        qa.ingest([dest])
    except FileExistsError:
        raise DocumentError(accepted.name, "another upload of the same name is in progress") from None
    except BaseException as err:
        dest.unlink(missing_ok=True)
        if isinstance(err, DocumentError):
            raise DocumentError(accepted.name, err.reason) from None
        if isinstance(err, CaucasusQAError):
            raise DocumentError(accepted.name, str(err)) from None
        raise
    return dest
