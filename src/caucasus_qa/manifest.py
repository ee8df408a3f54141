"""What the store holds, kept beside it: one record per document and the chunk texts.

``manifest.json`` maps each document to its content fingerprint, source path, catalog record and
chunk ids; ``chunks.jsonl`` keeps every chunk's text and citation fields so that keyword retrieval
(BM25) is built from them directly (a Chroma-backed LlamaIndex index has an empty docstore).
Both are replaced atomically (write to a temporary file, fsync, rename) after the store writes
succeed, so a crash leaves either the old or the new version, never half of one. ``manifest.json``
also records the SHA-256 of the ``chunks.jsonl`` saved with it, so that an ingest can confirm an
unchanged store without parsing every chunk (:meth:`Manifest.intact_docs`).
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import StoreError
from .schema import Chunk, DocumentRecord

MANIFEST_VERSION = 1
FIX = "run `caucasus-qa ingest --rebuild` to rebuild the index"


@dataclass
class DocEntry:
    doc_id: str
    path: str
    fingerprint: str
    record: DocumentRecord
    chunk_ids: list[str]
    footnotes_resolved: int = 0
    footnote_entries: int = 0

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["record"]["authors"] = list(self.record.authors)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DocEntry:
        rec = dict(d["record"])
        rec["authors"] = tuple(rec.get("authors", ()))
        return cls(**{**d, "record": DocumentRecord(**rec)})


@dataclass
class Manifest:
    docs: dict[str, DocEntry] = field(default_factory=dict)
    chunks: dict[str, Chunk] = field(default_factory=dict)  # chunk_id -> chunk, all documents
    complete: bool = True  # False: loaded leniently from files that disagree (see ``load``)

    @classmethod
    def load(cls, manifest_file: Path, chunks_file: Path, strict: bool = True) -> Manifest:
        """Read both files. Unreadable JSON is a :class:`StoreError`. An older layout, or chunk ids that
        ``chunks.jsonl`` lacks (an ingest killed between the two renames, a truncated file), are one
        too when ``strict``; otherwise (ingest) the manifest comes back with ``complete=False`` so that
        every document is verified against the store again, as it does when ``chunks.jsonl`` is not
        the file saved with the manifest (its digest differs from the one recorded)."""
        with gc_paused():
            data = _read_manifest(manifest_file)
        if data is None:
            return cls()
        if data.get("version") != MANIFEST_VERSION:
            if strict:
                raise StoreError(
                    f"{manifest_file}: layout version {data.get('version')!r}, this version reads "
                    f"{MANIFEST_VERSION}; {FIX}"
                )
            return cls(complete=False)  # an older layout: re-verified and rewritten by ingest
        with gc_paused():
            docs = _docs(manifest_file, data)
            chunks, damaged = read_chunks(chunks_file)
        missing = sum(1 for e in docs.values() for cid in e.chunk_ids if cid not in chunks)
        if (missing or damaged) and strict:
            raise StoreError(
                f"{chunks_file}: {missing} chunks listed in {manifest_file.name} are missing"
                f"{f' and {damaged} lines are damaged' if damaged else ''}; {FIX}"
            )
        recorded = data.get("chunks_sha256")
        altered = not strict and recorded is not None and recorded != _sha256(chunks_file)
        return cls(docs, chunks, complete=not (missing or damaged or altered))

    @staticmethod
    def intact_docs(manifest_file: Path, chunks_file: Path) -> dict[str, DocEntry] | None:
        """The documents of ``manifest_file`` when ``chunks_file`` is byte for byte the one saved with it
        (its SHA-256 is checked; it is not parsed), else None: no manifest, a damaged one, another
        layout, one saved before the digest was recorded, a ``chunks.jsonl`` changed since. What an
        ingest needs to see that nothing changed; a caller that gets None loads with :meth:`load`."""
        try:
            with gc_paused():
                data = _read_manifest(manifest_file) or {}
                recorded = data.get("chunks_sha256")
                if data.get("version") != MANIFEST_VERSION or recorded is None:
                    return None
                if recorded != _sha256(chunks_file):
                    return None
                return _docs(manifest_file, data)
        except (OSError, StoreError):
            return None

    def save(self, manifest_file: Path, chunks_file: Path) -> None:
        manifest_file.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for entry in self.docs.values():
            for cid in entry.chunk_ids:
                lines.append(json.dumps(asdict(self.chunks[cid]), ensure_ascii=False))
        chunks = ("\n".join(lines) + ("\n" if lines else "")).encode()
        _atomic_write(chunks_file, chunks)
        _write_manifest(manifest_file, self.docs, hashlib.sha256(chunks).hexdigest())

    def save_digest(self, manifest_file: Path, chunks_file: Path) -> None:
        """Rewrite ``manifest.json`` alone, with the digest of ``chunks.jsonl`` as it is now: for files
        that :meth:`load` found in agreement but :meth:`intact_docs` could not confirm (a store saved
        before the digest was recorded), so that the next unchanged ingest need not parse them."""
        _write_manifest(manifest_file, self.docs, _sha256(chunks_file))

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        entry = self.docs.get(doc_id)
        return [self.chunks[c] for c in entry.chunk_ids] if entry else []


def _write_manifest(manifest_file: Path, docs: dict[str, DocEntry], chunks_sha256: str | None) -> None:
    payload = {
        "version": MANIFEST_VERSION,
        "chunks_sha256": chunks_sha256,
        "docs": {k: v.to_json() for k, v in docs.items()},
    }
    _atomic_write(manifest_file, json.dumps(payload, ensure_ascii=False, indent=1).encode())


def read_chunks(chunks_file: Path) -> tuple[dict[str, Chunk], int]:
    """Every chunk of ``chunks_file`` by id, and how many of its lines are damaged (left out)."""
    chunks: dict[str, Chunk] = {}
    damaged = 0
    if not chunks_file.exists():
        return chunks, damaged
    with chunks_file.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.strip():
                continue
            try:
                c = json.loads(line)
                c["footnotes"] = tuple(c["footnotes"])
                c["references"] = tuple(c["references"])
                c["markers"] = tuple((int(a), int(b)) for a, b in c.get("markers", ()))
                chunks[c["chunk_id"]] = Chunk(**c)
            except (ValueError, KeyError, TypeError, AttributeError):
                damaged += 1
    return chunks, damaged


def _read_manifest(manifest_file: Path) -> dict[str, Any] | None:
    """The parsed ``manifest.json`` (None when there is none); unreadable JSON is a StoreError."""
    if not manifest_file.exists():
        return None
    try:
        data = json.loads(manifest_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise StoreError(f"{manifest_file}: unreadable or damaged ({type(err).__name__}); {FIX}") from err
    return data if isinstance(data, dict) else {}


def _docs(manifest_file: Path, data: dict[str, Any]) -> dict[str, DocEntry]:
    try:
        return {k: DocEntry.from_json(v) for k, v in data["docs"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise StoreError(f"{manifest_file}: unreadable or damaged ({type(err).__name__}); {FIX}") from err


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: for code that makes many objects and no cycles (reading a
    manifest, fingerprinting a corpus). On the large heap of a running assistant, the full collections
    such allocations trigger made up a third of an unchanged re-ingest of 100,000 chunks, or more when
    the process had just ingested them. The state before is restored (a caller's ``gc.disable()``
    stays)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _sha256(path: Path) -> str | None:
    """The file's SHA-256, None when it does not exist."""
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except FileNotFoundError:
        return None


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
