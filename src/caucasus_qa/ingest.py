"""Index stage, pipeline half: files → parsed documents → chunks → embeddings → Chroma.

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
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.schema import MetadataMode

from . import bm25
from .catalog import load_catalog
from .chunk import Chunker, to_node
from .embed import SentenceTransformerEmbedding
from .entities import tag_in_background, with_entities
from .errors import DocumentError, InputError, StoreError
from .loaders import load_document
from .manifest import DocEntry, Manifest, file_stat, gc_paused, read_chunks, settled_stat
from .model_info import model_info, token_counter
from .parse import parse_document
from .schema import Chunk, IngestReport, ParsedDocument
from .sentvec import ChunkRow, Rows, SentenceStore, sentence_dir
from .settings import SUPPORTED_EXTENSIONS, Settings
from .store import Store, make_client

PIPELINE_VERSION = "2"  # bump when cleaning/parsing/chunking/tagging changes what a file turns into
STREAM_CHUNKS = 1024  # chunks embedded and written per step of an ingest (bounded memory)
STAGING_SUFFIX = "__rebuild"  # collection a rebuild writes into before it replaces the live one


@dataclass
class _Planned:
    doc: ParsedDocument
    path: Path
    fingerprint: str
    chunks: list[Chunk]
    is_new: bool
    stat: list[int] | None = None  # see manifest.py: the stat cache
    setup: str = ""


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
            f"{settings.store_dir}: cannot write the index ({err.strerror or err}); "
            "free space or fix permissions, then run `caucasus-qa ingest` again "
            "(it completes or repairs what this run left; a failed --rebuild changed nothing)"
        ) from err


def _set_aside_chroma_dir(settings: Settings) -> Path:
    """Rename an unreadable ``<store>/chroma`` to ``<store>/chroma.unreadable-<time>`` (same directory,
    so nothing outside the store is ever touched); the caller deletes it after a successful rebuild."""
    chroma, store = settings.chroma_dir, settings.store_dir.resolve()
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


def _progress_bar(total: int) -> Any:
    """The one progress bar of an ingest: chunks of the changed documents, embedded or reused."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="chunk", desc="Embedding")


_STEM_IDS = (".txt", ".md")  # text files are known by their stem (the eval set and old stores rely on it)


def doc_id_for(path: Path) -> str:
    """``001_x.txt`` → ``001_x``; other formats keep theirs, so that ``klaleche.pdf`` and
    ``klaleche.docx`` are two documents: ``klaleche.pdf``, ``klaleche.docx``."""
    ext = path.suffix.lower()
    return path.stem if ext in _STEM_IDS else f"{path.stem}{ext}"


def catalog_key(doc_id: str) -> str:
    """The catalog table of a document: its id's stem (``klaleche.pdf`` → ``klaleche``)."""
    stem, dot, ext = doc_id.rpartition(".")
    return stem if dot and f".{ext}" in SUPPORTED_EXTENSIONS else doc_id


def discover(
    settings: Settings, manifest: Manifest, paths: Iterable[Path], skipped: list[str] | None = None
) -> dict[str, Path]:
    """Documents to index: the corpus directory, files indexed earlier that still exist, and ``paths``.
    A file of a type that cannot be read, found in a folder, goes to ``skipped`` as one line."""
    found: dict[str, Path] = {}
    catalog = settings.corpus_dir / settings.catalog_file

    def add(path: Path, explicit: bool) -> None:
        if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
            if explicit:
                raise DocumentError(
                    path,
                    f"unsupported extension {path.suffix or '(none)'!r}; "
                    f"expected one of {', '.join(SUPPORTED_EXTENSIONS)}",
                )
            if skipped is not None and path != catalog:
                skipped.append(
                    f"skipped {path}: {path.suffix or 'no extension'} is not a type it reads "
                    f"({', '.join(SUPPORTED_EXTENSIONS)})"
                )
            return
        doc_id = doc_id_for(path)
        other = found.get(doc_id)
        if other is not None and other.resolve() != path.resolve():
            raise DocumentError(
                path, f"document id {doc_id!r} is already used by {other}; rename one of them"
            )
        found[doc_id] = path

    with gc_paused():  # a Path per file, no cycles
        if settings.corpus_dir.is_dir():
            for path in _files_under(settings.corpus_dir):
                add(path, explicit=False)
        for entry in manifest.docs.values():
            if entry.doc_id not in found and Path(entry.path).is_file():
                add(Path(entry.path), explicit=False)
        for path in paths:
            path = Path(path)
            if not path.exists():
                raise DocumentError(path, "no such file or directory")
            if path.is_dir():
                for sub in _files_under(path):
                    add(sub, explicit=False)
            else:
                add(path, explicit=True)
    return found


def _files_under(folder: Path | str) -> list[Path]:
    """The files under ``folder`` whose names do not start with a dot, in path order: what
    ``sorted(p for p in folder.rglob("*") if p.is_file())`` gives (linked folders not followed,
    unreadable ones skipped), at a third of the cost on a corpus of 10,000 files."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)  # files and subfolders together, as Paths sort
    except PermissionError:
        return []
    found: list[Path] = []
    for e in entries:
        if e.is_dir(follow_symlinks=False):
            found += _files_under(e.path)
        elif e.is_file() and not e.name.startswith("."):
            found.append(Path(e.path))
    return found


def _setup_parts(record_json: str, settings: Settings) -> tuple[str, ...]:
    """Everything besides the file's bytes that decides what a document turns into."""
    return (
        PIPELINE_VERSION,
        settings.model_name,
        str(settings.max_seq_tokens),
        str(settings.chunk_tokens),
        str(settings.chunk_overlap_sentences),
        record_json,
    )


def fingerprint(raw: bytes, record_json: str, settings: Settings) -> str:
    h = hashlib.sha256()
    for part in _setup_parts(record_json, settings):
        h.update(part.encode())
        h.update(b"\x1f")
    h.update(raw)
    return h.hexdigest()


def setup_fingerprint(record_json: str, settings: Settings) -> str:
    """The fingerprint's part that is not the file: a document whose stat and setup are as recorded
    is unchanged without being read (manifest.py: the stat cache)."""
    return hashlib.sha256("\x1f".join(_setup_parts(record_json, settings)).encode()).hexdigest()


_Stat = tuple[list[int] | None, str]  # a file's stat (None: not settled) and the setup it was read under


def _record_stats(manifest: Manifest, found: dict[str, _Stat]) -> bool:
    """Put the stats ``_plan`` found into ``manifest``'s entries; True if any entry changed."""
    for doc_id, (stat, setup) in found.items():
        manifest.docs[doc_id] = replace(manifest.docs[doc_id], stat=stat, setup=setup)
    return bool(found)


def _read_with_stat(path: Path) -> tuple[bytes, list[int] | None]:
    """The file's bytes and the stat to record for it (taken after reading; None if not settled)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        parts = []
        while part := os.read(fd, 1 << 20):
            parts.append(part)
        return b"".join(parts), settled_stat(os.fstat(fd), time.time_ns())
    finally:
        os.close(fd)


class Ingestor:
    def __init__(
        self,
        settings: Settings,
        open_store: Callable[[], Store],
        load_embedding: Callable[[], SentenceTransformerEmbedding],
    ) -> None:
        self.settings = settings
        self.open_store = open_store
        self.load_embedding = load_embedding

    def run(self, paths: Iterable[Path] = (), rebuild: bool = False, progress: bool = False) -> IngestReport:
        t0 = time.perf_counter()
        s = self.settings
        with _store_writes(s), store_lock(s.store_dir):
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
            restated = _record_stats(manifest, stats)
            if not planned and not removed and consistent:
                if (docs is None or restated) and s.manifest_file.exists():  # record the digest, stats
                    manifest.save_digest(s.manifest_file, s.chunks_file)
                report.seconds = time.perf_counter() - t0
                return report
            if docs is not None and consistent:  # the unchanged documents' chunks are saved again
                manifest.chunks = read_chunks(s.chunks_file)[0]
            self._write(store, manifest, planned, removed, report, progress, self._sentences())
            if not consistent:
                keep = {cid for e in manifest.docs.values() for cid in e.chunk_ids}
                orphans = [i for i in store.all_ids() if i not in keep]
                store.delete_ids(orphans)
                report.removed_chunks += len(orphans)
            manifest.save(s.manifest_file, s.chunks_file)
            bm25.rebuild(s, manifest)  # keyword index follows chunks.jsonl
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
        staging_settings = s.model_copy(update={"collection": f"{s.collection}{STAGING_SUFFIX}"})
        set_aside: Path | None = None
        try:
            client = make_client(s)
            with contextlib.suppress(Exception):  # a staging collection left by a killed rebuild
                client.delete_collection(staging_settings.collection)
            staging = Store(staging_settings, info.name, info.dimension, client=client)
        except StoreError:
            if live is not None or s.chroma_url:
                raise
            set_aside = _set_aside_chroma_dir(s)
            staging = Store(staging_settings, info.name, info.dimension)
        staged = SentenceStore(sentence_dir(s).with_name(sentence_dir(s).name + STAGING_SUFFIX))
        shutil.rmtree(staged.dir, ignore_errors=True)  # left by a killed rebuild
        try:
            self._write(staging, manifest, planned, [], report, progress, staged)
        except BaseException:
            shutil.rmtree(staged.dir, ignore_errors=True)
            raise
        staging.promote(s.collection)
        self._sentences().replace_with(staged)
        if live is not None:
            live.reopen()
        manifest.save(s.manifest_file, s.chunks_file)
        bm25.rebuild(s, manifest)  # keyword index follows chunks.jsonl
        if set_aside is not None:
            shutil.rmtree(set_aside, ignore_errors=True)
        return report

    def remove(self, doc_id: str) -> IngestReport:
        s = self.settings
        with store_lock(s.store_dir):
            manifest = Manifest.load(s.manifest_file, s.chunks_file)
            if doc_id not in manifest.docs:
                raise InputError(f"doc: no indexed document {doc_id!r}")
            store = self.open_store()
            report = IngestReport()
            self._write(store, manifest, [], [doc_id], report, False, self._sentences())
            manifest.save(s.manifest_file, s.chunks_file)
            bm25.rebuild(s, manifest)  # keyword index follows chunks.jsonl
        return report

    def _sentences(self) -> SentenceStore:
        return SentenceStore(sentence_dir(self.settings))

    # -- stages -------------------------------------------------------------------------------
    @staticmethod
    def _unchanged(old: DocEntry, report: IngestReport) -> None:
        report.unchanged_docs += 1
        report.unchanged_chunks += len(old.chunk_ids)
        report.footnotes_resolved[old.doc_id] = old.footnotes_resolved

    def _plan(
        self, sources: dict[str, Path], manifest: Manifest, report: IngestReport
    ) -> tuple[list[_Planned], dict[str, _Stat]]:
        """The changed documents, parsed and chunked; and the stat (and setup) to record for documents
        that were read and found unchanged under a stat other than the recorded one."""
        s = self.settings
        catalog = load_catalog(s.corpus_dir, s.catalog_file) if s.corpus_dir.is_dir() else {}
        changed: list[tuple[str, Path, str, str, list[int] | None, str]] = []  # + sha256 of the bytes
        restat: dict[str, _Stat] = {}
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
                    raw, stat = _read_with_stat(path)
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
        planned: list[_Planned] = []
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
                    token_counter(s), s.max_seq_tokens, s.chunk_tokens, s.chunk_overlap_sentences
                )
            is_new = doc_id not in manifest.docs
            planned.append(_Planned(doc, path, fp, chunker.chunk(doc), is_new, stat, setup))
            report.footnotes_resolved[doc_id] = doc.resolved_marker_count
        return planned, restat

    def _write(
        self,
        store: Store,
        manifest: Manifest,
        planned: list[_Planned],
        removed: list[str],
        report: IngestReport,
        progress: bool,
        sentences: SentenceStore,
    ) -> None:
        # Stream: embed and write STREAM_CHUNKS chunks at a time (whole documents), so memory stays
        # bounded at any corpus size and Chroma gets few large writes instead of one per document.
        groups: list[list[_Planned]] = []
        size = STREAM_CHUNKS
        for p in planned:
            if size + len(p.chunks) > STREAM_CHUNKS and (not groups or groups[-1]):
                groups.append([])
                size = 0
            groups[-1].append(p)
            size += len(p.chunks)
        bar = _progress_bar(sum(len(p.chunks) for p in planned)) if progress and planned else None
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
        group: list[_Planned],
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
        tagging = tag_in_background({n.node_id: n.get_content() for n in todo}, self.settings.spacy_model)
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
        rows = with_entities(rows, tagging.result(), chunk_texts, self.settings.spacy_model)
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
