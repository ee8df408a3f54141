"""What the store holds, kept beside it: one record per document and the chunk texts.

``manifest.json`` maps each document to its content fingerprint, source path, catalog record and
chunk ids; ``chunks.jsonl`` keeps every chunk's text and citation fields so that keyword retrieval
(BM25) is built from them directly (a Chroma-backed LlamaIndex index has an empty docstore).
Both are replaced atomically (write to a temporary file, fsync, rename) after the store writes
succeed, so a crash leaves either the old or the new version, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import StoreError
from .schema import Chunk, DocumentRecord

MANIFEST_VERSION = 1


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
        every document is verified against the store again."""
        if not manifest_file.exists():
            return cls()
        fix = "run `caucasus-qa ingest --rebuild` to rebuild the index"
        try:
            data = json.loads(manifest_file.read_text(encoding="utf-8"))
            version = data.get("version") if isinstance(data, dict) else None
            if version != MANIFEST_VERSION:
                if strict:
                    raise StoreError(
                        f"{manifest_file}: layout version {version!r}, this version reads "
                        f"{MANIFEST_VERSION}; {fix}"
                    )
                return cls(complete=False)  # an older layout: re-verified and rewritten by ingest
            docs = {k: DocEntry.from_json(v) for k, v in data["docs"].items()}
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise StoreError(f"{manifest_file}: unreadable or damaged ({type(err).__name__}); {fix}") from err
        chunks: dict[str, Chunk] = {}
        damaged = 0
        if chunks_file.exists():
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
        missing = sum(1 for e in docs.values() for cid in e.chunk_ids if cid not in chunks)
        if (missing or damaged) and strict:
            raise StoreError(
                f"{chunks_file}: {missing} chunks listed in {manifest_file.name} are missing"
                f"{f' and {damaged} lines are damaged' if damaged else ''}; {fix}"
            )
        return cls(docs, chunks, complete=not (missing or damaged))

    def save(self, manifest_file: Path, chunks_file: Path) -> None:
        manifest_file.parent.mkdir(parents=True, exist_ok=True)
        lines = []
        for entry in self.docs.values():
            for cid in entry.chunk_ids:
                lines.append(json.dumps(asdict(self.chunks[cid]), ensure_ascii=False))
        _atomic_write(chunks_file, "\n".join(lines) + ("\n" if lines else ""))
        payload = {"version": MANIFEST_VERSION, "docs": {k: v.to_json() for k, v in self.docs.items()}}
        _atomic_write(manifest_file, json.dumps(payload, ensure_ascii=False, indent=1))

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        entry = self.docs.get(doc_id)
        return [self.chunks[c] for c in entry.chunk_ids] if entry else []


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
