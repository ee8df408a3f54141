"""What the store holds, kept beside it: one record per document and the chunk texts.

``manifest.json`` maps each document to its content fingerprint, source path, catalog record and
chunk ids; ``chunks.jsonl`` keeps every chunk's text and citation fields so that keyword retrieval
(BM25) is built from them directly (a Chroma-backed LlamaIndex index has an empty docstore).
Both are replaced atomically (write to a temporary file, fsync, rename) after the store writes
succeed, so a crash leaves either the old or the new version, never half of one. ``manifest.json``
also records the SHA-256 of the ``chunks.jsonl`` saved with it, so that an ingest can confirm an
unchanged store without parsing every chunk (:meth:`Manifest.intact_docs`).

Stat cache (as git's index does it): each document records the size, mtime, ctime and inode its
file had when it was read (:func:`file_stat`), and the manifest records those of the
``chunks.jsonl`` it was saved with. An ingest that finds a file's stat as recorded, under the same
catalog record and settings, takes it as unchanged without reading it; anything else is read and
fingerprinted. A file modified within :data:`SETTLE_NS` of being read is recorded without a stat
(an edit in the same timestamp tick — up to 2 s on some filesystems — could leave the stat as it
was), so it is read again next time. Editing a file and restoring its mtime still changes its ctime.
``chunks.jsonl``'s stat is trusted only when it is older than ``manifest.json``'s (else hashed).
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
SETTLE_NS = 3_000_000_000  # a file modified this recently when read gets no stat (read again next time)
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
    stat: list[int] | None = None  # file_stat() when read (None: not settled, or an older manifest)
    setup: str = ""  # setup_fingerprint() of the catalog record and settings it was ingested under

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
        (its stat as recorded, else its SHA-256 as recorded; it is not parsed), else None: no manifest,
        a damaged one, another layout, one saved before the digest was recorded, a ``chunks.jsonl``
        changed since. What an ingest needs to see that nothing changed; a caller that gets None loads
        with :meth:`load`."""
        try:
            with gc_paused():
                data = _read_manifest(manifest_file) or {}
                recorded = data.get("chunks_sha256")
                if data.get("version") != MANIFEST_VERSION or recorded is None:
                    return None
                holds = _chunks_stat_holds(manifest_file, chunks_file, data.get("chunks_stat"))
                if not holds and recorded != _sha256(chunks_file):
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
        _write_manifest(manifest_file, self.docs, chunks_file, hashlib.sha256(chunks).hexdigest())

    def save_digest(self, manifest_file: Path, chunks_file: Path) -> None:
        """Rewrite ``manifest.json`` alone, with the digest of ``chunks.jsonl`` as it is now: for files
        that :meth:`load` found in agreement but :meth:`intact_docs` could not confirm (a store saved
        before the digest was recorded), so that the next unchanged ingest need not parse them."""
        _write_manifest(manifest_file, self.docs, chunks_file, _sha256(chunks_file))

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        entry = self.docs.get(doc_id)
        return [self.chunks[c] for c in entry.chunk_ids] if entry else []


def file_stat(path: Path | str) -> list[int] | None:
    """``[size, mtime_ns, ctime_ns, inode]`` of ``path`` (None when it cannot be stat'ed)."""
    try:
        return _stat_key(os.stat(path))
    except OSError:
        return None


def _stat_key(st: os.stat_result) -> list[int]:
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def _chunks_stat_holds(manifest_file: Path, chunks_file: Path, recorded: Any) -> bool:
    """``chunks.jsonl`` has the stat recorded when ``manifest.json`` was written, and was modified in an
    earlier timestamp tick than ``manifest.json`` (git's racy-clean rule: an edit in the tick of the
    save could leave the stat as recorded, so that case is hashed)."""
    if not isinstance(recorded, list) or recorded != file_stat(chunks_file):
        return False
    mf = file_stat(manifest_file)
    return mf is not None and recorded[1] < mf[1]


def settled_stat(st: os.stat_result, read_at_ns: int) -> list[int] | None:
    """The stat to record for a file read at ``read_at_ns``: None when it was modified too recently
    (:data:`SETTLE_NS`) for its stat to be trusted next time. (An edit that puts the mtime back
    still changes the ctime, which the stat holds.)"""
    return None if st.st_mtime_ns > read_at_ns - SETTLE_NS else _stat_key(st)


def _write_manifest(
    manifest_file: Path, docs: dict[str, DocEntry], chunks_file: Path, chunks_sha256: str | None
) -> None:
    # chunks.jsonl is ours, replaced by rename just before: its stat now is the one to find next time
    # (trusted only if older than this file: see _chunks_stat_holds).
    payload = {
        "version": MANIFEST_VERSION,
        "chunks_sha256": chunks_sha256,
        "chunks_stat": file_stat(chunks_file) if chunks_sha256 is not None else None,
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
                c["pages"] = tuple(int(p) for p in c.get("pages", ()))
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
