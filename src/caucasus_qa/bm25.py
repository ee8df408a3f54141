"""Keyword half of retrieval: a BM25 index (``bm25s``; the package's one stemmer and stopword list,
PyStemmer's Snowball English and :data:`caucasus_qa.lexicon.STOPWORDS`) over the chunk texts kept
in ``chunks.jsonl``, searched by :class:`KeywordIndex` (the query is tokenized as LlamaIndex's
``BM25Retriever`` does it; the stopword list is bm25s's "en").

What BM25 sees for a chunk (:func:`bm25_text`): the document's title, authors and venue, the section
path, the chunk text, and the entries of the footnotes the chunk cites. So "who wrote X", "what does
<venue> say" and "who does the author cite for claim Y" (by the cited author or title) all find the
passage. The nodes it returns carry the same id and metadata as the dense ones.

The index lives in ``<store>/bm25/`` with a stamp of the chunks file it was built from; it is rebuilt
whenever ``chunks.jsonl`` (hence the corpus or the chunking) changes — by ``ingest`` directly, and
as a fallback on load when the stamp does not match.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import bm25s
import numpy as np
from llama_index.core.schema import MetadataMode, TextNode
from llama_index.core.vector_stores.utils import node_to_metadata_dict

from .chunk import to_node
from .lexicon import STOPWORDS, stemmer
from .manifest import Manifest
from .schema import Chunk, DocumentRecord
from .settings import Settings

BM25_VERSION = "2"  # bump when bm25_text or the tokenizer changes
STAMP_FILE = "stamp.json"
IDS_FILE = "ids.json"
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
# metadata keys that BM25 reads (via the node's EMBED content); the rest is citation data only
BM25_KEYS = ("title", "authors", "venue", "section", "references")

logging.getLogger("bm25s").setLevel(logging.WARNING)


def bm25_node(chunk: Chunk, record: DocumentRecord) -> TextNode:
    """The chunk's LlamaIndex node with BM25's view of it: header + text + footnote references."""
    node = to_node(chunk, record)
    node.metadata["authors"] = "; ".join(record.authors)
    node.metadata["references"] = "\n".join(chunk.references)
    node.excluded_embed_metadata_keys = [k for k in node.metadata if k not in BM25_KEYS]
    node.metadata_separator = "\n"
    return node


def bm25_text(chunk: Chunk, record: DocumentRecord) -> str:
    return bm25_node(chunk, record).get_content(MetadataMode.EMBED)


_STOPWORDS = sorted(STOPWORDS)


def tokenize(texts: list[str]) -> Any:
    return bm25s.tokenize(
        texts, stopwords=_STOPWORDS, stemmer=stemmer(), token_pattern=TOKEN_PATTERN, show_progress=False
    )


def build_bm25(nodes: Sequence[TextNode], k1: float = 1.2, b: float = 0.75) -> bm25s.BM25:
    """A ``bm25s.BM25`` over ``nodes`` whose corpus holds the node dicts ``BM25Retriever`` returns."""
    corpus = [node_to_metadata_dict(n) | {"node_id": n.node_id} for n in nodes]
    bm25 = bm25s.BM25(k1=k1, b=b, corpus=corpus)
    bm25.index(tokenize([n.get_content(MetadataMode.EMBED) for n in nodes]), show_progress=False)
    return bm25


def _chunks_stamp(settings: Settings) -> str:
    h = hashlib.sha256(BM25_VERSION.encode())
    if settings.chunks_file.exists():
        h.update(settings.chunks_file.read_bytes())
    return h.hexdigest()


def manifest_nodes(manifest: Manifest) -> list[TextNode]:
    nodes = []
    for entry in manifest.docs.values():
        for cid in entry.chunk_ids:
            nodes.append(bm25_node(manifest.chunks[cid], entry.record))
    return nodes


def rebuild(settings: Settings, manifest: Manifest) -> KeywordIndex | None:
    """Build the index for ``manifest`` and persist it under ``<store>/bm25`` (atomically replaced).

    The folder holds what ``bm25s.BM25.save`` writes, corpus included (so ``BM25Retriever`` can
    load it too), plus the chunk and document ids in corpus order (``ids.json``), which is all
    :class:`KeywordIndex` needs: loading the corpus took 3 s and ~390 MiB at 100,000 chunks.
    """
    folder = settings.store.store_dir / "bm25"
    nodes = manifest_nodes(manifest)
    if not nodes:
        shutil.rmtree(folder, ignore_errors=True)
        return None
    bm25 = build_bm25(nodes)
    ids = [n.node_id for n in nodes]
    docs = [str(n.metadata.get("doc_id")) for n in nodes]
    tmp = settings.store.store_dir / ".bm25.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    bm25.save(str(tmp), corpus=bm25.corpus, show_progress=False)
    (tmp / IDS_FILE).write_text(json.dumps({"ids": ids, "docs": docs}), encoding="utf-8")
    (tmp / STAMP_FILE).write_text(json.dumps({"chunks": _chunks_stamp(settings)}), encoding="utf-8")
    old = settings.store.store_dir / ".bm25.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    bm25.corpus = None  # saved; searches need only the ids
    return KeywordIndex(bm25, ids, docs)


def load_or_build(settings: Settings, manifest: Manifest) -> KeywordIndex | None:
    """The persisted index when it matches ``chunks.jsonl``, else a fresh one (persisted)."""
    folder = settings.store.store_dir / "bm25"
    stamp = folder / STAMP_FILE
    try:
        if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")).get("chunks") == _chunks_stamp(
            settings
        ):
            known = json.loads((folder / IDS_FILE).read_text(encoding="utf-8"))
            bm25 = bm25s.BM25.load(str(folder), load_corpus=False, show_progress=False)
            return KeywordIndex(bm25, [str(i) for i in known["ids"]], [str(d) for d in known["docs"]])
    except (OSError, ValueError, KeyError, TypeError):
        pass  # unreadable, partial, or written before ids.json: rebuild below
    return rebuild(settings, manifest)


Ranking = list[tuple[str, float]]  # (chunk id, score), best first
TIE_MARGIN = 8  # hits taken beyond k, so that a tie at the cut is resolved the same way everywhere
SCORE_DECIMALS = 5
_WORKER: ThreadPoolExecutor | None = None
_WORKER_LOCK = threading.Lock()


class KeywordIndex:
    """A loaded BM25 index, searched for chunk ids and scores.

    Written by hand rather than through ``BM25Retriever``: that retriever rebuilds a LlamaIndex node
    from JSON for every hit (3 of its 4 ms per query at 207 chunks) and builds the document mask by
    scanning the whole corpus on every filtered query, while the chunks are already in memory (the
    manifest). Tokenization and scoring are the same calls, so the ranking is the same.
    """

    def __init__(self, bm25: bm25s.BM25, ids: Sequence[str], docs: Sequence[str]) -> None:
        if len(ids) != len(docs) or len(ids) != int(bm25.scores["num_docs"]):
            raise ValueError(f"BM25 index of {bm25.scores['num_docs']} chunks given {len(ids)} ids")
        self.bm25 = bm25
        self.ids: list[str] = list(ids)  # chunk id at each corpus position
        self._docs = np.asarray(docs, dtype=object)
        self._positions = np.arange(len(self.ids))  # given as the corpus: retrieve returns positions
        self._stemmer = stemmer()

    def submit(self, query: str, k: int, docs: Sequence[str] | None = None) -> Future[Ranking]:
        """:meth:`search` on the keyword thread, one per process: the caller embeds the query
        meanwhile (torch releases the GIL), and searches never run at once, since a PyStemmer
        stemmer must not be used by two threads together (the UI answers several questions at once)."""
        global _WORKER
        with _WORKER_LOCK:
            if _WORKER is None:
                _WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="caucasus-qa-bm25")
        return _WORKER.submit(self.search, query, k, docs)

    def search(self, query: str, k: int, docs: Sequence[str] | None = None) -> Ranking:
        """``(chunk id, score)`` of the best ``k`` chunks with a positive score, best first (in the
        calling thread: use :meth:`submit` where other threads may search too)."""
        k = min(k, len(self.ids))
        if k <= 0:
            return []
        tokens = bm25s.tokenize(
            query, stemmer=self._stemmer, token_pattern=TOKEN_PATTERN, show_progress=False
        )
        mask = np.isin(self._docs, list(docs)).astype(np.float32) if docs else None
        # bm25s sums a query's term scores in an order that follows Python's string hashing, so equal
        # scores can differ in the last bits from one process to the next and swap places: a few
        # extra hits are taken, scores rounded, and ties put in corpus order, so the ranking is the
        # same in every process (the ranking and training depend on it being reproducible).
        extra = min(len(self.ids), k + TIE_MARGIN)
        found, scores = self.bm25.retrieve(
            tokens, k=extra, corpus=self._positions, weight_mask=mask, show_progress=False
        )
        hits = sorted(
            ((int(i), round(float(x), SCORE_DECIMALS)) for i, x in zip(found[0], scores[0], strict=True)),
            key=lambda h: (-h[1], h[0]),
        )[:k]
        return [(self.ids[i], x) for i, x in hits if x > 0.0]
