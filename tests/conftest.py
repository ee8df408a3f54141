"""Shared fixtures: the real corpus, parsed once; a real store, ingested once per session."""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
DOC_IDS = sorted(p.stem for p in CORPUS.glob("*.txt"))


@pytest.fixture(scope="session")
def parsed_corpus() -> dict[str, object]:
    from caucasus_qa.catalog import load_catalog
    from caucasus_qa.loaders import read_text
    from caucasus_qa.parse import parse_document

    catalog = load_catalog(CORPUS)
    return {
        p.stem: parse_document(read_text(p), doc_id=p.stem, path=str(p), record=catalog.get(p.stem))
        for p in sorted(CORPUS.glob("*.txt"))
    }


@pytest.fixture(scope="session")
def qa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """An Assistant over the real corpus in a temporary store, ingested once (real model, real Chroma)."""
    from caucasus_qa import Assistant

    store = tmp_path_factory.mktemp("store")
    assistant = Assistant(corpus_dir=CORPUS, store_dir=store)
    assistant.ingest()
    yield assistant


@pytest.fixture()
def mini_corpus(tmp_path: Path) -> Path:
    """A writable two-document corpus (the two short articles) with the real catalog."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("000_58fd850d681a9b3e.txt", "004_2e4681bc52934605.txt", "catalog.toml"):
        shutil.copy(CORPUS / name, corpus / name)
    return corpus


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served_ui(qa: Any) -> Iterator[str]:
    """The chat UI over ``qa``'s store, served on a free loopback port; yields its URL."""
    from caucasus_qa.ui.app import build_app, launch_options

    app = build_app(qa)
    _, url, _ = app.launch(
        server_name="127.0.0.1",
        server_port=free_port(),
        prevent_thread_lock=True,
        quiet=True,
        **launch_options(qa),
    )
    try:
        yield url
    finally:
        app.close()


@pytest.fixture(scope="module")
def ui_url(qa: Any) -> Iterator[str]:
    """The chat UI over the session's store, served on a free loopback port for one test module."""
    with served_ui(qa) as url:
        yield url
