"""Sentence vectors from the chunk pass ("late chunking"), so answering embeds no sentences.

The extractive answer scores every sentence of the retrieved passages against the question.
Encoding those sentences at question time costs several question embeddings per ``ask``. Instead,
ingest runs the model once per chunk as before, keeps the token embeddings of that same forward
pass, and mean-pools them over each sentence's word pieces (the model's own pooling, applied to a
sentence span instead of the whole chunk): a vector per sentence at no extra model cost, which also
sees the sentence's context (Günther et al., "Late Chunking", 2024). sentence-transformers returns
the token embeddings (``output_value=None``) but has no span pooling, hence this module.

Vectors are stored per document in ``<store>/sentences/<hash>.sv`` (chunk ids, sentence spans in
the chunk text, float16 sentence vectors, float32 chunk vectors), written atomically. They are
looked up by chunk id, which is a hash of the chunk text, so a file can never serve vectors for text
it was not computed from; a sentence without a stored vector is encoded at question time as before.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .chunk import sentence_spans
from .embedder import Embedder, normalised
from .entities import Entity
from .settings import Settings

SLICE = 256  # texts per forward call: bounds the token embeddings held at once (256 x 256 x 384)


def sentence_pieces(text: str) -> list[tuple[int, int]]:
    """Spans of the non-blank sentences of ``text``, stripped of surrounding whitespace."""
    out: list[tuple[int, int]] = []
    for a, b in sentence_spans(text):
        piece = text[a:b]
        stripped = piece.strip()
        if stripped:
            start = a + len(piece) - len(piece.lstrip())
            out.append((start, start + len(stripped)))
    return out


@dataclass(frozen=True)
class Encoded:
    """One text's pooled vector (normalised, as ``encode`` gives it) and its sentences' vectors."""

    vector: np.ndarray  # (dim,)
    spans: np.ndarray  # (m, 2) int32, spans in the text given to ``pool_sentences``
    sentences: np.ndarray  # (m, dim) float32, normalised


def pool_sentences(
    model: Embedder,
    texts: Sequence[str],
    body_starts: Sequence[int],
    batch_size: int = 64,
    on_slice: Callable[[int], None] | None = None,
) -> list[Encoded]:
    """Encode ``texts`` once; pool each sentence of ``text[body_start:]`` from the token embeddings.

    ``body_starts[i]`` is where the chunk text begins in the embedded text (after its metadata
    header); sentence spans are returned relative to it, i.e. in the chunk text.
    """
    out: list[Encoded] = []
    dim = 0
    for start in range(0, len(texts), SLICE):
        part = list(texts[start : start + SLICE])
        offsets = model.token_offsets(part)
        for j, (vec, tokens) in enumerate(model.encode_tokens(part, batch_size=batch_size)):
            dim = vec.shape[-1]
            text, base = part[j], body_starts[start + j]
            offs = np.asarray(offsets[j][: len(tokens)], dtype=np.int64).reshape(-1, 2)
            real = offs[:, 1] > offs[:, 0]
            spans, vecs = [], []
            for a, b in sentence_pieces(text[base:]):
                inside = real & (offs[:, 0] >= base + a) & (offs[:, 1] <= base + b)
                if inside.any():
                    spans.append((a, b))
                    vecs.append(tokens[inside].mean(axis=0))
            out.append(
                Encoded(
                    vec.astype(np.float32),
                    np.asarray(spans, dtype=np.int32).reshape(-1, 2),
                    normalised(np.asarray(vecs, dtype=np.float32).reshape(-1, dim)),
                )
            )
        if on_slice is not None:
            on_slice(len(part))
    return out


# -- storage ----------------------------------------------------------------------------------
class ChunkRow(NamedTuple):
    """A chunk's stored vectors."""

    spans: np.ndarray  # (m, 2) sentence spans in the chunk text
    vectors: np.ndarray  # (m, dim) sentence vectors
    chunk: np.ndarray | None = None  # (dim,) the chunk's own vector, as in Chroma (None: older file)
    # named entities of the chunk text, (start, end, class), found at ingest (None: older file)
    entities: tuple[Entity, ...] | None = None


Rows = dict[str, ChunkRow]  # chunk id -> its row


class SentenceStore:
    """One file of sentence vectors per document under one directory.

    The file is a small JSON header (chunk ids, sentences per chunk, dimension) followed by the raw
    int32 spans and float16 vectors, read with one ``read`` and ``np.frombuffer``: a question reads
    the files of up to 20 documents, and an ``.npz`` (a zip archive, one member per array) took about
    1 ms to open, which at 100,000 chunks was a third of a question's time. (The ``.npz`` files of
    earlier versions are not read: their documents' sentences are encoded at question time until
    the document is next written; a rebuild or ``prune`` deletes them.)
    """

    SUFFIX = ".sv"
    MAGIC = b"CQASENT1"

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def path(self, doc_id: str) -> Path:
        return self.dir / f"{_file_key(doc_id)}{self.SUFFIX}"

    def read(self, doc_id: str) -> Rows:
        """The stored rows of ``doc_id`` (empty when there is no readable file)."""
        try:
            got = _decode(self.path(doc_id).read_bytes(), self.MAGIC)
        except (OSError, ValueError, KeyError, TypeError, struct.error):
            return {}
        if got is None:
            return {}
        ids, counts, spans, vecs, chunks, ents = got
        rows: Rows = {}
        at = 0
        for i, (cid, n) in enumerate(zip(ids, counts, strict=True)):
            rows[cid] = ChunkRow(
                spans[at : at + n],
                vecs[at : at + n],
                None if chunks is None else chunks[i],
                None if ents is None else ents[i],
            )
            at += n
        return rows

    def write(self, doc_id: str, rows: Mapping[str, ChunkRow]) -> None:
        """Replace ``doc_id``'s file atomically; no rows: remove it. Chunk vectors are kept when
        every row has one (float32: they score passages exactly as Chroma's copy does)."""
        if not rows:
            self.remove(doc_id)
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        ids = list(rows)
        spans = np.concatenate([rows[c].spans for c in ids]).astype("<i4").reshape(-1, 2)
        vecs = np.concatenate([rows[c].vectors for c in ids]).astype("<f2")
        dim = int(vecs.shape[1])
        chunk_vecs = [rows[c].chunk for c in ids]
        with_chunks = all(v is not None for v in chunk_vecs)
        head: dict[str, Any] = {
            "ids": ids,
            "counts": [len(rows[c].spans) for c in ids],
            "dim": dim,
            "chunks": with_chunks,
        }
        if all(rows[c].entities is not None for c in ids):
            head["ents"] = [[list(e) for e in rows[c].entities or ()] for c in ids]
        header = json.dumps(head, ensure_ascii=False).encode()
        header += b" " * (-(len(self.MAGIC) + 8 + len(header)) % 8)  # arrays start 8-aligned
        fd, tmp = tempfile.mkstemp(dir=self.dir, prefix=".tmp-", suffix=self.SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(self.MAGIC + struct.pack("<Q", len(header)) + header)
                fh.write(spans.tobytes())
                fh.write(vecs.tobytes())
                if with_chunks:
                    fh.write(np.asarray(chunk_vecs, dtype="<f4").reshape(len(ids), dim).tobytes())
            os.replace(tmp, self.path(doc_id))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def remove(self, doc_id: str) -> None:
        self.path(doc_id).unlink(missing_ok=True)

    def prune(self, keep: Iterable[str]) -> None:
        """Delete the files of documents not in ``keep`` (and temporary files a crash left)."""
        if not self.dir.is_dir():
            return
        wanted = {_file_key(d) + self.SUFFIX for d in keep}
        for p in self.dir.iterdir():
            if p.name not in wanted:
                p.unlink(missing_ok=True)

    def replace_with(self, staging: SentenceStore) -> None:
        """Swap ``staging``'s directory in place of this one (used by a rebuild once it succeeded)."""
        old = self.dir.with_name(self.dir.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.dir.exists():
            self.dir.rename(old)
        if staging.dir.exists():
            staging.dir.rename(self.dir)
        shutil.rmtree(old, ignore_errors=True)


def _file_key(doc_id: str) -> str:
    return hashlib.sha256(doc_id.encode()).hexdigest()[:24]


# ids, sentences per chunk, spans, sentence vectors (float16), chunk vectors (float32) or None,
# entities per chunk or None
Decoded = tuple[
    list[str], list[int], np.ndarray, np.ndarray, np.ndarray | None, list[tuple[Entity, ...]] | None
]


def _decode(data: bytes, magic: bytes) -> Decoded | None:
    """Parse a file :meth:`SentenceStore.write` wrote; None when it is truncated or not one."""
    if not data.startswith(magic):
        return None
    start = len(magic) + 8
    (size,) = struct.unpack_from("<Q", data, len(magic))
    head = json.loads(data[start : start + size])
    ids, counts, dim = [str(i) for i in head["ids"]], [int(n) for n in head["counts"]], int(head["dim"])
    n, k = sum(counts), len(ids)
    at = start + size
    chunk_bytes = k * dim * 4 if head.get("chunks") else 0
    if len(ids) != len(counts) or len(data) != at + n * 8 + n * dim * 2 + chunk_bytes:
        return None
    spans = np.frombuffer(data, dtype="<i4", count=2 * n, offset=at).reshape(n, 2)
    at += n * 8
    # float16 as stored: numpy promotes it exactly where it meets the float32 question vector
    vecs = np.frombuffer(data, dtype="<f2", count=n * dim, offset=at).reshape(n, dim)
    at += n * dim * 2
    chunks = None
    if chunk_bytes:
        chunks = np.frombuffer(data, dtype="<f4", count=k * dim, offset=at).reshape(k, dim)
    ents = None
    if isinstance(head.get("ents"), list) and len(head["ents"]) == k:
        ents = [tuple((int(a), int(b), str(c)) for a, b, c in row) for row in head["ents"]]
    return ids, counts, spans, vecs, chunks, ents


class SentenceLookup:
    """Stored sentence vectors of a document, by chunk id and by sentence text; cached per document."""

    def __init__(self, store: SentenceStore, chunk_text: Callable[[str], str | None], docs: int = 256):
        self.store = store
        self.chunk_text = chunk_text
        self.max_docs = docs
        self._rows: OrderedDict[str, Rows] = OrderedDict()
        self._texts: dict[str, dict[str, np.ndarray]] = {}

    def rows(self, doc_id: str) -> Rows:
        """Chunk id -> (spans, vectors), for the chunks of ``doc_id`` that are indexed now."""
        hit = self._rows.get(doc_id)
        if hit is not None:
            self._rows.move_to_end(doc_id)
            return hit
        rows = {cid: r for cid, r in self.store.read(doc_id).items() if self.chunk_text(cid) is not None}
        self._rows[doc_id] = rows
        if len(self._rows) > self.max_docs:
            old, _ = self._rows.popitem(last=False)
            self._texts.pop(old, None)
        return rows

    def spans(self, doc_id: str, chunk_id: str, text: str) -> list[tuple[int, int]] | None:
        """The stored sentence spans of a chunk whose text is ``text`` (None: not stored, or the
        text is not that chunk's own: a merged passage)."""
        row = self.rows(doc_id).get(chunk_id)
        if row is None or self.chunk_text(chunk_id) != text:
            return None
        return [(int(a), int(b)) for a, b in row[0].tolist()]

    def for_doc(self, doc_id: str) -> dict[str, np.ndarray]:
        """Sentence text -> vector."""
        rows = self.rows(doc_id)
        found = self._texts.get(doc_id)
        if found is None:
            found = {}
            for cid, (spans, vecs, *_) in rows.items():
                text = self.chunk_text(cid) or ""
                for (a, b), v in zip(spans.tolist(), vecs, strict=True):
                    found.setdefault(text[a:b], v)
            self._texts[doc_id] = found
        return found


def sentence_dir(settings: Settings) -> Path:
    return settings.store.store_dir / "sentences"
