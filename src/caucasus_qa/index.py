"""The index on disk: :class:`Index` builds the :class:`~caucasus_qa.snapshot.IndexSnapshot` that
questions read, and it alone writes the artifacts an index version is made of:

* **Chroma** (``store.py``): chunks and their vectors, embedded or reused, added and replaced a group
  of whole documents at a time (:meth:`Index.write`), orphans deleted (:meth:`Index.prune`), a
  rebuild's staging collection promoted in place of the live one (:meth:`Index.swap_in`);
* the **sentence files** (``sentvec.py``): a document's sentence vectors and entities, written with
  its chunks, swapped in by a rebuild;
* **manifest.json + chunks.jsonl** (``manifest.py``): saved atomically by :meth:`Index.commit`, which
  is what makes the new version (or the digest alone rewritten, :meth:`Index.confirm`);
* the **BM25 index** (``bm25.py``): rebuilt by :meth:`Index.commit` from the chunks just saved.

:class:`caucasus_qa.ingest.Ingestor` decides what changes (the store lock, discovery, parsing and
chunking, a rebuild's staging collection) and hands it here. The one write a reader makes: a BM25
folder whose stamp does not match ``chunks.jsonl`` is rebuilt when a snapshot loads it
(``bm25.load_or_build``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import MetadataMode

from . import bm25
from .chunk import to_node
from .embed import SentenceTransformerEmbedding
from .entities import tag_in_background, with_entities
from .manifest import DocEntry, Manifest
from .schema import Chunk, IngestReport, ParsedDocument
from .sentvec import ChunkRow, Rows, SentenceStore, sentence_dir
from .settings import Settings
from .snapshot import IndexSnapshot
from .store import Store

__all__ = ["STREAM_CHUNKS", "Index", "Planned", "progress_bar"]

STREAM_CHUNKS = 1024  # chunks embedded and written per step of an ingest (bounded memory)


@dataclass
class Planned:
    """A changed document, parsed and chunked, waiting to be written."""

    doc: ParsedDocument
    path: Path
    fingerprint: str
    chunks: list[Chunk]
    is_new: bool
    stat: list[int] | None = None  # see manifest.py: the stat cache
    setup: str = ""


def progress_bar(total: int) -> Any:
    """The one progress bar of an ingest: chunks of the changed documents, embedded or reused."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="chunk", desc="Embedding")


class Index:
    """The index of one store directory: its snapshot for questions, and every write to it.

    ``open_store`` and ``load_embedding`` give the Chroma store and the embedding model (the
    assistant's, loaded on first use).
    """

    def __init__(
        self,
        settings: Settings,
        open_store: Callable[[], Store],
        load_embedding: Callable[[], SentenceTransformerEmbedding],
    ) -> None:
        self.settings = settings
        self.open_store = open_store
        self.load_embedding = load_embedding

    # -- reading ----------------------------------------------------------------------------------
    def snapshot(self) -> IndexSnapshot:
        """The version on disk now (``manifest.json`` and ``chunks.jsonl``), as questions read it."""
        s = self.settings
        manifest = Manifest.load(s.manifest_file, s.chunks_file)
        return IndexSnapshot(s, manifest, self.open_store, self.load_embedding)

    def sentences(self) -> SentenceStore:
        """The live sentence files."""
        return SentenceStore(sentence_dir(self.settings))

    # -- writing ----------------------------------------------------------------------------------
    def commit(self, manifest: Manifest) -> None:
        """Make ``manifest`` the index version: ``chunks.jsonl`` and ``manifest.json`` saved
        atomically, then the keyword index rebuilt from them (it follows ``chunks.jsonl``)."""
        s = self.settings
        manifest.save(s.manifest_file, s.chunks_file)
        bm25.rebuild(s, manifest)

    def confirm(self, manifest: Manifest) -> None:
        """Rewrite ``manifest.json`` alone with the digest of ``chunks.jsonl`` (and the stats it records)."""
        manifest.save_digest(self.settings.manifest_file, self.settings.chunks_file)

    def prune(self, store: Store, manifest: Manifest, report: IngestReport) -> None:
        """Delete the chunks in ``store`` that no document of ``manifest`` lists (a killed ingest's)."""
        keep = {cid for e in manifest.docs.values() for cid in e.chunk_ids}
        orphans = [i for i in store.all_ids() if i not in keep]
        store.delete_ids(orphans)
        report.removed_chunks += len(orphans)

    def swap_in(self, staging: Store, staged: SentenceStore, live: Store | None) -> None:
        """A complete rebuild replaces the live index: its collection and its sentence files (the
        manifest follows, :meth:`commit`)."""
        staging.promote(self.settings.store.collection)
        self.sentences().replace_with(staged)
        if live is not None:
            live.reopen()

    def write(
        self,
        store: Store,
        manifest: Manifest,
        planned: list[Planned],
        removed: list[str],
        report: IngestReport,
        progress: bool,
        sentences: SentenceStore,
    ) -> None:
        """Write ``planned`` (parsed and chunked documents) and remove ``removed`` from ``store``,
        ``manifest`` and ``sentences``, counting what was done in ``report``."""
        # Stream: embed and write STREAM_CHUNKS chunks at a time (whole documents), so memory stays
        # bounded at any corpus size and Chroma gets few large writes instead of one per document.
        groups: list[list[Planned]] = []
        size = STREAM_CHUNKS
        for p in planned:
            if size + len(p.chunks) > STREAM_CHUNKS and (not groups or groups[-1]):
                groups.append([])
                size = 0
            groups[-1].append(p)
            size += len(p.chunks)
        bar = progress_bar(sum(len(p.chunks) for p in planned)) if progress and planned else None
        for group in groups:
            self._write_group(store, manifest, group, report, bar, sentences)
        if bar is not None:
            bar.close()
        for doc_id in removed:
            entry = manifest.docs.pop(doc_id)
            store.delete_doc(doc_id)
            sentences.remove(doc_id)
            for cid in entry.chunk_ids:
                manifest.chunks.pop(cid, None)
            report.removed_docs += 1
            report.removed_chunks += len(entry.chunk_ids)

    def _write_group(
        self,
        store: Store,
        manifest: Manifest,
        group: list[Planned],
        report: IngestReport,
        bar: Any,
        sentences: SentenceStore,
    ) -> None:
        """Embed and write one group; ``bar`` (or None) advances as its chunks are embedded or reused."""
        nodes = [to_node(c, p.doc.record) for p in group for c in p.chunks]
        stored = {p.doc.doc_id: store.ids_of(p.doc.doc_id) for p in group}
        old_ids = {cid for ids in stored.values() for cid in ids}
        reuse = store.embeddings_for([n.node_id for n in nodes if n.node_id in old_ids])
        todo = [n for n in nodes if n.node_id not in reuse]
        rows: Rows = {}  # sentence vectors of this group's chunks (see sentvec.py)
        # named entities of the new chunks, tagged on a thread while they are embedded (entities.py)
        spacy_model = self.settings.answer.spacy_model
        tagging = tag_in_background({n.node_id: n.get_content() for n in todo}, spacy_model)
        if todo:
            embedding = self.load_embedding()
            texts = [n.get_content(MetadataMode.EMBED) for n in todo]
            encoded = embedding.encode_with_sentences(
                texts,
                [len(t) - len(n.get_content()) for t, n in zip(texts, todo, strict=True)],
                on_slice=bar.update if bar is not None else None,
            )
            for node, enc in zip(todo, encoded, strict=True):
                node.embedding = enc.vector.tolist()
                rows[node.node_id] = ChunkRow(enc.spans, enc.sentences, enc.vector)
        for p in group:  # sentence vectors of reused chunks come from the document's previous file
            if stored[p.doc.doc_id]:
                for k, row in sentences.read(p.doc.doc_id).items():
                    if k in reuse:  # a file from before chunk vectors were kept gets them now
                        chunk = row.chunk if row.chunk is not None else np.asarray(reuse[k], np.float32)
                        rows[k] = row._replace(chunk=chunk)
        for node in nodes:
            if node.embedding is None:
                node.embedding = reuse[node.node_id]
        chunk_texts = {n.node_id: n.get_content() for n in nodes}
        rows = with_entities(rows, tagging.result(), chunk_texts, spacy_model)
        report.embedded_chunks += len(todo)
        if bar is not None:
            bar.update(len(nodes) - len(todo))  # reused: counted when found
        for p in group:
            sentences.write(
                p.doc.doc_id, {c.chunk_id: rows[c.chunk_id] for c in p.chunks if c.chunk_id in rows}
            )

        for p in group:
            doc_id = p.doc.doc_id
            before = len(stored[doc_id])
            if before:
                store.delete_doc(doc_id)
        store.add(nodes)  # one write for the group (Store.add splits it into WRITE_BATCH requests)
        for p in group:
            doc_id = p.doc.doc_id
            before = len(stored[doc_id])
            old = manifest.docs.get(doc_id)
            if old is not None:
                for cid in old.chunk_ids:
                    manifest.chunks.pop(cid, None)
            manifest.docs[doc_id] = DocEntry(
                doc_id=doc_id,
                path=str(p.path),
                fingerprint=p.fingerprint,
                record=p.doc.record,
                chunk_ids=[c.chunk_id for c in p.chunks],
                footnotes_resolved=p.doc.resolved_marker_count,
                footnote_entries=len(p.doc.footnotes),
                stat=p.stat,
                setup=p.setup,
            )
            manifest.chunks.update({c.chunk_id: c for c in p.chunks})
            new_ids = {c.chunk_id for c in p.chunks}
            if p.is_new and before == 0:
                report.added_docs += 1
            else:
                report.updated_docs += 1
            report.added_chunks += len(new_ids - old_ids)
            report.removed_chunks += before - len(new_ids & old_ids) if before else 0
            report.unchanged_chunks += len(new_ids & old_ids)
