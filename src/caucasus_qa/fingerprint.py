"""What decides whether a document changed: its content fingerprint and the stat cache.

A document's fingerprint covers its bytes and everything besides them that decides what it turns
into (pipeline version, model, chunking settings, catalog record); a file whose stat and setup are
as recorded is unchanged without being read (manifest.py: the stat cache).
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import replace
from pathlib import Path

from .manifest import Manifest, settled_stat
from .settings import Settings

__all__ = ["PIPELINE_VERSION", "Stat", "fingerprint", "read_with_stat", "record_stats", "setup_fingerprint"]

PIPELINE_VERSION = "2"  # bump when cleaning/parsing/chunking/tagging changes what a file turns into


def _setup_parts(record_json: str, settings: Settings) -> tuple[str, ...]:
    """Everything besides the file's bytes that decides what a document turns into."""
    return (
        PIPELINE_VERSION,
        settings.embed.model_name,
        str(settings.embed.max_seq_tokens),
        str(settings.embed.chunk_tokens),
        str(settings.embed.chunk_overlap_sentences),
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


Stat = tuple[list[int] | None, str]  # a file's stat (None: not settled) and the setup it was read under


def record_stats(manifest: Manifest, found: dict[str, Stat]) -> bool:
    """Put the stats ``Ingestor._plan`` found into ``manifest``'s entries; True if any entry changed."""
    for doc_id, (stat, setup) in found.items():
        manifest.docs[doc_id] = replace(manifest.docs[doc_id], stat=stat, setup=setup)
    return bool(found)


def read_with_stat(path: Path) -> tuple[bytes, list[int] | None]:
    """The file's bytes and the stat to record for it (taken after reading; None if not settled)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        parts = []
        while part := os.read(fd, 1 << 20):
            parts.append(part)
        return b"".join(parts), settled_stat(os.fstat(fd), time.time_ns())
    finally:
        os.close(fd)
