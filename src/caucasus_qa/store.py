"""Index stage, storage half: the Chroma collection (embedded or server) behind LlamaIndex.

The collection records which embedding model and dimension wrote it, and the schema version of
our metadata; a store that does not match is refused with a message that says how to rebuild.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlparse

from llama_index.core.schema import TextNode
from llama_index.vector_stores.chroma import ChromaVectorStore

from .errors import StoreError
from .settings import Settings

SCHEMA_VERSION = 1
SEARCH_EF = 200
WRITE_BATCH = 256  # nodes per Chroma write: bounded memory and request size at any corpus size

logging.getLogger("chromadb.telemetry").setLevel(logging.CRITICAL)


def make_client(settings: Settings) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.store.chroma_url:
        url = urlparse(settings.store.chroma_url)
        if url.scheme not in {"http", "https"} or not url.hostname:
            raise StoreError(f"chroma_url: expected http://host:port, got {settings.store.chroma_url!r}")
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as err:  # chromadb raises assorted transport errors
            raise StoreError(
                f"chroma_url: cannot reach the Chroma server at {settings.store.chroma_url} "
                f"({type(err).__name__}); "
                "start it with `chroma run --path DIR --port PORT` or unset CAUCASUS_QA_STORE__CHROMA_URL"
            ) from err
        return client
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as err:
        raise StoreError(
            f"{settings.chroma_dir}: the Chroma store cannot be opened ({type(err).__name__}: {err}); "
            "run `caucasus-qa ingest --rebuild` to start from scratch"
        ) from err


class _Guarded:
    """A Chroma collection whose failures (server gone, unreadable files) surface as one-line
    :class:`StoreError`s instead of transport or Rust tracebacks, wherever they are called from
    (our code or LlamaIndex's vector store)."""

    def __init__(self, collection: Any, settings: Settings) -> None:
        self._inner = collection
        self._settings = settings

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attr(*args, **kwargs)
            except StoreError:
                raise
            except Exception as err:  # chromadb raises assorted transport and internal errors
                raise store_failure(self._settings, f"{name} failed", err) from err

        return call


def store_failure(settings: Settings, what: str, err: BaseException) -> StoreError:
    detail = " ".join(f"{type(err).__name__}: {err}".split())[:200]
    if settings.store.chroma_url:
        return StoreError(
            f"chroma_url: the Chroma server at {settings.store.chroma_url} stopped answering "
            f"({what}: {detail}); "
            "check that `chroma run` is up, then ask again"
        )
    return StoreError(
        f"{settings.chroma_dir}: the Chroma store failed ({what}: {detail}); "
        "if it persists, run `caucasus-qa ingest --rebuild` to start from scratch"
    )


class Store:
    """One Chroma collection, checked against the embedding model that uses it."""

    def __init__(
        self, settings: Settings, model_name: str, dimension: int, client: Any | None = None
    ) -> None:
        self.settings = settings
        self.model_name = model_name
        self.dimension = dimension
        self.client = client if client is not None else make_client(settings)
        self.collection = self._open_collection()
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)

    @property
    def expected_metadata(self) -> dict[str, Any]:
        return {
            "hnsw:space": "cosine",
            # HNSW is approximate and its graph is built on several threads, so a fresh store's top 40
            # differed by a chunk in about one process in five (and `train` with it); exploring 200
            # neighbours makes the search exact up to a few hundred chunks, at a fraction of a ms
            "hnsw:search_ef": SEARCH_EF,
            "embed_model": self.model_name,
            "embed_dim": self.dimension,
            "embed_backend": self.settings.embed.backend,
            "schema_version": SCHEMA_VERSION,
        }

    def _open_collection(self) -> Any:
        name = self.settings.store.collection
        try:
            collection = self.client.get_or_create_collection(name=name, metadata=self.expected_metadata)
        except Exception as err:
            raise store_failure(self.settings, f"collection {name!r} cannot be opened", err) from err
        self.check(collection.metadata or {})
        return _Guarded(collection, self.settings)

    def reopen(self) -> None:
        """Look the collection up again by name (after :meth:`promote` replaced it)."""
        self.collection = self._open_collection()
        self.vector_store = ChromaVectorStore(chroma_collection=self.collection)

    def promote(self, name: str) -> None:
        """Make this (staging) collection the one called ``name``: the old one is dropped, this one
        renamed. The only step of a rebuild that touches the live index, and it comes last."""
        with contextlib.suppress(Exception):  # absent (first build, or unreadable and set aside)
            self.client.delete_collection(name)
        self.collection.modify(name=name)

    def check(self, meta: dict[str, Any]) -> None:
        where = self.settings.store.chroma_url or str(self.settings.chroma_dir)
        fix = "run `caucasus-qa ingest --rebuild` to re-embed the corpus"
        if meta.get("embed_model") != self.model_name or meta.get("embed_dim") != self.dimension:
            raise StoreError(
                f"{where}: store was built with {meta.get('embed_model')!r} (dim {meta.get('embed_dim')}), "
                f"but this configuration embeds with {self.model_name!r} (dim {self.dimension}); {fix}"
            )
        backend = meta.get("embed_backend", "torch")  # stores written before backends were recorded
        if backend != self.settings.embed.backend:
            raise StoreError(
                f"{where}: store was embedded with the {backend!r} backend, but this configuration uses "
                f"{self.settings.embed.backend!r} (vectors differ slightly); set CAUCASUS_QA_EMBED__BACKEND="
                f"{backend} or {fix}"
            )
        if meta.get("schema_version") != SCHEMA_VERSION:
            raise StoreError(
                f"{where}: store schema version {meta.get('schema_version')!r} is not {SCHEMA_VERSION}; {fix}"
            )

    def count(self) -> int:
        return int(self.collection.count())

    def ids_of(self, doc_id: str) -> list[str]:
        got = self.collection.get(where={"document_id": doc_id}, include=[])
        return list(got["ids"])

    def all_ids(self) -> list[str]:
        return list(self.collection.get(include=[])["ids"])

    def embeddings_for(self, ids: Sequence[str]) -> dict[str, list[float]]:
        """Stored vectors by id (lets a changed document reuse the embeddings of unchanged chunks)."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["embeddings"])
        return {i: list(map(float, e)) for i, e in zip(got["ids"], got["embeddings"], strict=True)}

    def nodes_for(self, ids: Sequence[str]) -> dict[str, TextNode]:
        """Stored text and metadata by id, as nodes (for chunks written after a manifest was read)."""
        if not ids:
            return {}
        got = self.collection.get(ids=list(ids), include=["documents", "metadatas"])
        return {
            i: TextNode(id_=i, text=doc or "", metadata=dict(meta or {}))
            for i, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True)
        }

    def add(self, nodes: Sequence[TextNode]) -> None:
        for i in range(0, len(nodes), WRITE_BATCH):
            self.vector_store.add(list(nodes[i : i + WRITE_BATCH]))

    def delete_doc(self, doc_id: str) -> None:
        self.vector_store.delete(ref_doc_id=doc_id)

    def delete_ids(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), WRITE_BATCH):
            self.collection.delete(ids=list(ids[i : i + WRITE_BATCH]))
