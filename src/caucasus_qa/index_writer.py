"""Index stage, writing half: chunks embedded (or their stored vectors reused) and written to Chroma,
the sentence files and the manifest, a group of whole documents at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import MetadataMode

from .chunk import to_node
from .embed import SentenceTransformerEmbedding
from .entities import tag_in_background, with_entities
from .manifest import DocEntry, Manifest
from .schema import Chunk, IngestReport, ParsedDocument
from .sentvec import ChunkRow, Rows, SentenceStore
from .settings import Settings
from .store import Store

__all__ = ["STREAM_CHUNKS", "IndexWriter", "Planned", "progress_bar"]

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


class IndexWriter:
    """Embeds and writes the chunks of changed documents; removes those of removed ones."""

    def __init__(
        self, settings: Settings, load_embedding: Callable[[], SentenceTransformerEmbedding]
    ) -> None:
        self.settings = settings
        self.load_embedding = load_embedding

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
