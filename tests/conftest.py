"""Shared fixtures: the real corpus, parsed once; a real store, ingested once per session.

Also the gate of the browser tests (marked ``browser``): without Debian's chromium they are skipped,
and the run ends with a loud block that counts them and says how to run them; with
``CAUCASUS_QA_REQUIRE_BROWSER=1`` (CI) each of them fails instead. ``CAUCASUS_QA_CHROMIUM`` names
another chromium binary (the gate's own tests point it at a missing one).
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
DOC_IDS = sorted(p.stem for p in CORPUS.glob("*.txt"))
CHROMIUM = Path(os.environ.get("CAUCASUS_QA_CHROMIUM") or "/usr/bin/chromium")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A browser test without chromium: skipped (counted at the end), or failed when CI requires it."""
    if item.get_closest_marker("browser") is None or CHROMIUM.exists():
        return
    if os.environ.get("CAUCASUS_QA_REQUIRE_BROWSER"):
        pytest.fail(
            f"{CHROMIUM} is missing but CAUCASUS_QA_REQUIRE_BROWSER is set; apt-get install chromium",
            pytrace=False,
        )
    pytest.skip(f"{CHROMIUM} not installed")


def skipped_browser_tests(terminalreporter: Any) -> tuple[int, list[str]]:
    """How many tests marked ``browser`` were skipped, and the distinct reasons given."""
    count, reasons = 0, []
    for rep in terminalreporter.stats.get("skipped", []):
        if "browser" not in getattr(rep, "keywords", {}):
            continue
        count += 1
        longrepr = rep.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reason = reason.removeprefix("Skipped: ")
        if reason not in reasons:
            reasons.append(reason)
    return count, reasons


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter: Any) -> Generator[None]:
    """After everything else pytest summarises (just above the final counts): the browser tests
    that did not run, why, and how to run them. Silence here would read as "the UI works"."""
    result = yield
    count, reasons = skipped_browser_tests(terminalreporter)
    if count:
        tests = "BROWSER TEST" if count == 1 else "BROWSER TESTS"
        say = terminalreporter.write_line
        terminalreporter.write_sep("!", f"{count} {tests} DID NOT RUN", red=True, bold=True)
        say(
            f"The chat UI was not tested in a browser: {count} test(s) marked 'browser' were skipped.",
            red=True,
        )
        for reason in reasons:
            say(f"Why: {reason}", red=True)
        say("To run them: apt-get install chromium   (Debian's package; no test downloads a browser)")
        say("then:        make test")
        say("CI sets CAUCASUS_QA_REQUIRE_BROWSER=1, which makes a missing browser fail these tests instead.")
        terminalreporter.write_sep("!", f"{count} {tests} DID NOT RUN", red=True, bold=True)
    return result


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
