"""Index stage, pipeline half: files → parsed documents → chunks, handed to :class:`~caucasus_qa.index.Index`,
which embeds them and writes every artifact (Chroma, sentence files, manifest, BM25).

Incremental by content: a document whose bytes, catalog record and chunking settings are
unchanged embeds nothing; a changed one has its chunks replaced (reusing the stored vectors of
chunks whose id, hence text, did not change); a document whose file is gone is removed. Every
input is read and parsed before the store is touched, so bad input leaves the index as it was.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from .catalog import load_catalog
from .chunk import Chunker
from .discovery import catalog_key, discover, doc_id_for
from .embed import SentenceTransformerEmbedding
from .errors import DocumentError, InputError, StoreError
from .fingerprint import (
    PIPELINE_VERSION,
    Stat,
    fingerprint,
    read_with_stat,
    record_stats,
    setup_fingerprint,
)
from .index import Index, Planned
from .loaders import load_document
from .manifest import DocEntry, Manifest, file_stat, gc_paused, read_chunks
from .model_info import model_info, token_counter
from .parse import parse_document
from .schema import IngestReport
from .sentvec import SentenceStore, sentence_dir
from .settings import Settings, with_overrides
from .store import Store, make_client

__all__ = [
    "PIPELINE_VERSION",
    "STAGING_SUFFIX",
    "Ingestor",
    "catalog_key",
    "discover",
    "doc_id_for",
    "fingerprint",
    "setup_fingerprint",
    "store_lock",
]


STAGING_SUFFIX = "__rebuild"  # collection a rebuild writes into before it replaces the live one


@contextmanager
def store_lock(store_dir: Path) -> Iterator[None]:
    """One writer at a time per store directory (across processes and threads)."""
    store_dir.mkdir(parents=True, exist_ok=True)
    with (store_dir / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextmanager
def _store_writes(settings: Settings) -> Iterator[None]:
    """A full disk or an unwritable store directory is a one-line StoreError, not a traceback."""
    try:
        yield
    except OSError as err:
        raise StoreError(
            f"{settings.store.store_dir}: cannot write the index ({err.strerror or err}); "
            "free space or fix permissions, then run `caucasus-qa ingest` again "
            "(it completes or repairs what this run left; a failed --rebuild changed nothing)"
        ) from err


def _set_aside_chroma_dir(settings: Settings) -> Path:
    """Rename an unreadable ``<store>/chroma`` to ``<store>/chroma.unreadable-<time>`` (same directory,
    so nothing outside the store is ever touched); the caller deletes it after a successful rebuild."""
    chroma, store = settings.chroma_dir, settings.store.store_dir.resolve()
    if chroma.is_symlink() or chroma.resolve().parent != store:
        raise StoreError(f"{chroma}: not a directory inside {store}; remove it by hand and rebuild")
    target = store / f"chroma.unreadable-{time.strftime('%Y%m%d-%H%M%S')}"
    chroma.rename(target)
    from chromadb.api.shared_system_client import SharedSystemClient

    # this process may hold the broken directory open; forget it so a fresh client starts clean
    system = SharedSystemClient._identifier_to_system.pop(str(chroma), None)
    SharedSystemClient._identifier_to_refcount.pop(str(chroma), None)
    if system is not None:
        with contextlib.suppress(Exception):
            system.stop()
    return target


class Ingestor:
    """Decides what an ingest changes and hands it to ``index`` (default: an :class:`Index` over
    ``open_store`` and ``load_embedding``), which writes it."""

    def __init__(
        self,
        settings: Settings,
        open_store: Callable[[], Store],
        load_embedding: Callable[[], SentenceTransformerEmbedding],
        index: Index | None = None,
    ) -> None:
        self.settings = settings
        self.open_store = open_store
        self.load_embedding = load_embedding
        self.index = index if index is not None else Index(settings, open_store, load_embedding)

    def run(self, paths: Iterable[Path] = (), rebuild: bool = False, progress: bool = False) -> IngestReport:
        t0 = time.perf_counter()
        s = self.settings
        with _store_writes(s), store_lock(s.store.store_dir):
            if rebuild:
                report = self._rebuild(paths, progress)
                report.seconds = time.perf_counter() - t0
                return report
            # chunks.jsonl is parsed only when it is not the file saved with manifest.json, or when
            # something is about to change: an unchanged store is confirmed by its digest alone
            docs = Manifest.intact_docs(s.manifest_file, s.chunks_file)
            if docs is not None:
                manifest = Manifest(docs)
            else:
                manifest = Manifest.load(s.manifest_file, s.chunks_file, strict=False)
            store = self.open_store()
            expected = sum(len(e.chunk_ids) for e in manifest.docs.values())
            consistent = manifest.complete and store.count() == expected
            if not consistent:
                manifest_docs = dict(manifest.docs)
                manifest = Manifest(docs={}, chunks={})  # re-verify every document against the store
            else:
                manifest_docs = manifest.docs
            skipped: list[str] = []
            sources = discover(s, Manifest(docs=manifest_docs), paths, skipped)
            report = IngestReport(skipped=skipped)
            planned, stats = self._plan(sources, manifest, report)
            removed = [d for d in manifest.docs if d not in sources]
            restated = record_stats(manifest, stats)
            if not planned and not removed and consistent:
                if (docs is None or restated) and s.manifest_file.exists():  # record the digest, stats
                    self.index.confirm(manifest)
                report.seconds = time.perf_counter() - t0
                return report
            if docs is not None and consistent:  # the unchanged documents' chunks are saved again
                manifest.chunks = read_chunks(s.chunks_file)[0]
            self.index.write(store, manifest, planned, removed, report, progress, self.index.sentences())
            if not consistent:
                self.index.prune(store, manifest, report)
            self.index.commit(manifest)
        report.seconds = time.perf_counter() - t0
        return report

    def _rebuild(self, paths: Iterable[Path], progress: bool) -> IngestReport:
        """Embed everything again into a staging collection and swap it in only when complete.

        A rebuild that fails midway (bad input, full disk, a crash) leaves the old index and its
        manifest serving. A store that cannot be used as it is (another model, an older schema) is
        replaced; one that Chroma cannot open at all (damaged files) is set aside inside the store
        directory and deleted once the new one is in place.
        """
        s = self.settings
        try:
            old = Manifest.load(s.manifest_file, s.chunks_file, strict=False)
        except StoreError:
            old = Manifest()  # damaged: the corpus and ``paths`` are all there is to rebuild from
        report = IngestReport()
        manifest = Manifest()
        planned, _ = self._plan(discover(s, old, paths, report.skipped), manifest, report)  # bad: untouched
        try:
            live: Store | None = self.open_store()
        except StoreError:
            live = None  # another model, an older schema, or unreadable: replaced below
        info = model_info(s)
        staging_settings = with_overrides(s, {"store.collection": f"{s.store.collection}{STAGING_SUFFIX}"})
        set_aside: Path | None = None
        try:
            client = make_client(s)
            with contextlib.suppress(Exception):  # a staging collection left by a killed rebuild
                client.delete_collection(staging_settings.store.collection)
            staging = Store(staging_settings, info.name, info.dimension, client=client)
        except StoreError:
            if live is not None or s.store.chroma_url:
                raise
            set_aside = _set_aside_chroma_dir(s)
            staging = Store(staging_settings, info.name, info.dimension)
        staged = SentenceStore(sentence_dir(s).with_name(sentence_dir(s).name + STAGING_SUFFIX))
        shutil.rmtree(staged.dir, ignore_errors=True)  # left by a killed rebuild
        try:
            self.index.write(staging, manifest, planned, [], report, progress, staged)
        except BaseException:
            shutil.rmtree(staged.dir, ignore_errors=True)
            raise
        self.index.swap_in(staging, staged, live)
        self.index.commit(manifest)
        if set_aside is not None:
            shutil.rmtree(set_aside, ignore_errors=True)
        return report

    def remove(self, doc_id: str) -> IngestReport:
        s = self.settings
        with store_lock(s.store.store_dir):
            manifest = Manifest.load(s.manifest_file, s.chunks_file)
            if doc_id not in manifest.docs:
                raise InputError(f"doc: no indexed document {doc_id!r}")
            store = self.open_store()
            report = IngestReport()
            self.index.write(store, manifest, [], [doc_id], report, False, self.index.sentences())
            self.index.commit(manifest)
        return report

    # -- stages -------------------------------------------------------------------------------
    @staticmethod
    def _unchanged(old: DocEntry, report: IngestReport) -> None:
        report.unchanged_docs += 1
        report.unchanged_chunks += len(old.chunk_ids)
        report.footnotes_resolved[old.doc_id] = old.footnotes_resolved

    def _plan(
        self, sources: dict[str, Path], manifest: Manifest, report: IngestReport
    ) -> tuple[list[Planned], dict[str, Stat]]:
        """The changed documents, parsed and chunked; and the stat (and setup) to record for documents
        that were read and found unchanged under a stat other than the recorded one."""
        s = self.settings
        catalog = (
            load_catalog(s.store.corpus_dir, s.store.catalog_file) if s.store.corpus_dir.is_dir() else {}
        )
        changed: list[tuple[str, Path, str, str, list[int] | None, str]] = []  # + sha256 of the bytes
        restat: dict[str, Stat] = {}
        with gc_paused():  # one pass over every file: many small objects, no cycles
            for doc_id, path in sources.items():
                record = catalog.get(doc_id) or catalog.get(catalog_key(doc_id))
                record_json = json.dumps(asdict(record), sort_keys=True) if record else ""
                setup = setup_fingerprint(record_json, s)
                old = manifest.docs.get(doc_id)
                if (
                    old is not None
                    and old.stat is not None
                    and old.setup == setup
                    and file_stat(path) == old.stat
                ):
                    self._unchanged(old, report)  # the stat cache: unchanged, not read
                    continue
                try:
                    raw, stat = read_with_stat(path)
                except OSError as err:
                    raise DocumentError(path, f"cannot be read ({err.strerror or err})") from err
                fp = fingerprint(raw, record_json, s)
                if old is not None and old.fingerprint == fp:
                    self._unchanged(old, report)
                    if (old.stat, old.setup) != (stat, setup):
                        restat[doc_id] = (stat, setup)
                else:
                    changed.append((doc_id, path, fp, hashlib.sha256(raw).hexdigest(), stat, setup))
        chunker: Chunker | None = None
        planned: list[Planned] = []
        for doc_id, path, fp, content_hash, stat, setup in changed:
            loaded = load_document(path)
            doc = parse_document(
                loaded.text,
                doc_id=doc_id,
                path=str(path),
                record=catalog.get(doc_id) or catalog.get(catalog_key(doc_id)),
                content_hash=content_hash,
                meta=loaded.meta,
            )
            if not doc.paragraphs:
                raise DocumentError(path, "no body text found after cleaning")
            if chunker is None:
                chunker = Chunker(
                    token_counter(s),
                    s.embed.max_seq_tokens,
                    s.embed.chunk_tokens,
                    s.embed.chunk_overlap_sentences,
                )
            is_new = doc_id not in manifest.docs
            planned.append(Planned(doc, path, fp, chunker.chunk(doc), is_new, stat, setup))
            report.footnotes_resolved[doc_id] = doc.resolved_marker_count
        return planned, restat
