"""The chat UI in Debian chromium (headless, via Playwright): ask, follow up, filter, upload, export, abstain.

Screenshots of the main states at 390 px and 1440 px go to ``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM

pytestmark = [pytest.mark.browser, pytest.mark.integration]  # without chromium: see conftest's gate

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
WIDTHS = {"desktop": (1440, 900), "phone": (390, 844)}
TIMEOUT = 90_000  # ms; answers take a few seconds on 2 cores


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture(params=list(WIDTHS))
def page(request: pytest.FixtureRequest, browser: Any, ui_url: str) -> Iterator[Any]:
    w, h = WIDTHS[request.param]
    ctx = browser.new_context(viewport={"width": w, "height": h}, accept_downloads=True)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=ui_url.rstrip("/"))
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT)
    pg.goto(ui_url)
    pg.wait_for_selector("#cqa-question textarea, #cqa-question input")
    pg.size_name = request.param  # type: ignore[attr-defined]
    yield pg
    ctx.close()


def shot(page: Any, name: str) -> None:
    page.wait_for_timeout(300)
    page.screenshot(path=str(SHOTS / f"{name}_{page.size_name}.png"), full_page=False)


def ask(page: Any, question: str, turn: int) -> Any:
    """Type, press Enter (keyboard only) and wait for answer ``turn``; returns its chat bubble."""
    box = page.locator("#cqa-question textarea, #cqa-question input").first
    box.fill(question)
    box.press("Enter")
    page.wait_for_selector(f"#cqa-sources #cqa-t{turn}-s1", state="attached")
    bubble = page.locator("#cqa-chat .message-content").filter(has=page.locator(".cqa-meta")).nth(turn - 1)
    bubble.wait_for()
    return bubble


def card_doc_ids(page: Any, turn: int) -> list[str]:
    return [
        t.strip() for t in page.locator(f'#cqa-sources [id^="cqa-t{turn}-s"] .cqa-docid').all_text_contents()
    ]


def test_answer_markers_link_to_cards_and_follow_up(page: Any) -> None:
    shot(page, "01_first_load")
    assert (
        page.locator("#cqa-chat").get_by_text("Why does Israel cooperate with Azerbaijan?").count() == 1
    )  # example
    bubble = ask(page, "Why does Israel cooperate with Azerbaijan?", 1)
    links = bubble.locator("a.cqa-marker")
    assert links.count() >= 1
    for href in links.evaluate_all("els => els.map(e => e.getAttribute('href'))"):
        assert re.fullmatch(r"#cqa-t1-s\d+", href)
        assert page.locator(href).count() == 1  # the card exists
    assert page.locator("#cqa-sources mark").count() >= 1  # supporting sentences highlighted
    shot(page, "02_answer")

    # a follow-up is turn 2; the first turn's cards stay reachable (folded)
    ask(page, "And what does Iran think about that?", 2)
    assert page.locator('#cqa-sources [id^="cqa-t1-s"]').count() >= 1
    target = page.locator("#cqa-chat a.cqa-marker").last
    href = target.get_attribute("href")
    assert href and href.startswith("#cqa-t2-")
    target.click()
    page.wait_for_function("h => location.hash === h", arg=href)
    assert page.locator(href).is_visible()
    assert page.locator(href).evaluate("card => card.open")  # the clicked card is expanded
    shot(page, "03_follow_up_card_clicked")
    no_sideways_scroll(page)


def test_copy_link_copies_answer_text(page: Any) -> None:
    bubble = ask(page, "What role does the Zangezur corridor play for Iran?", 1)
    answer_text = bubble.locator(".cqa-answer, .cqa-abstain").inner_text().strip()
    bubble.locator("a.cqa-copy").click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith(answer_text[:40]) and "<" not in copied
    assert "[1]" in copied.split(answer_text[-20:], 1)[-1]  # the numbered sources follow the answer


def test_filter_to_one_document(page: Any, qa: Any) -> None:
    doc = qa.documents()[2].record.doc_id
    page.locator("#cqa-docs input").click()
    page.get_by_role("option", name=re.compile(doc)).click()
    page.keyboard.press("Escape")
    ask(page, "What is Iran's national security concern?", 1)
    ids = card_doc_ids(page, 1)
    assert ids and set(ids) == {doc}
    shot(page, "04_filtered")


def test_abstention_is_shown_differently(page: Any) -> None:
    bubble = ask(page, "Who won the Tour de France in 2019?", 1)
    assert bubble.locator(".cqa-abstain").is_visible()
    assert bubble.locator(".cqa-answer").count() == 0
    assert "Not in these documents" in bubble.inner_text()
    assert bubble.locator(".cqa-why").inner_text().startswith("Why: ")
    assert page.locator("#cqa-sources h3").first.inner_text().startswith("Closest passages")
    shot(page, "05_abstained")


def test_export_downloads_markdown(page: Any) -> None:
    ask(page, "Why does Israel cooperate with Azerbaijan?", 1)
    with page.expect_download() as info:
        page.locator("#cqa-export").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "## 1. Why does Israel cooperate with Azerbaijan?" in text
    assert "## References" in text and re.search(r"\[\d+\]", text)


def test_upload_then_ask_about_it(page: Any, qa: Any, tmp_path: Path) -> None:
    from caucasus_qa.ui.library import remove_document

    stem = f"sevan_accord_{page.size_name}"
    doc = tmp_path / f"{stem}.txt"
    doc.write_text(
        "The Sevan Water Accord\n\n"
        "In the Sevan Water Accord, Armenia and Georgia agreed to share hydrological data from "
        "Lake Sevan every week. The accord created a joint water commission in Dilijan. "
        "Negotiators said the commission would meet twice a year to review the flow of the Debed river.\n",
        encoding="utf-8",
    )
    bad = tmp_path / "evil;name.pdf"
    bad.write_bytes(b"this is not a pdf")
    before = {d.record.doc_id for d in qa.documents()}
    try:
        page.get_by_role("tab", name="Library").click()
        page.locator("#cqa-upload input[type=file]").set_input_files([str(doc), str(bad)])
        page.wait_for_selector("#cqa-upload-status .cqa-ok")
        status = page.locator("#cqa-upload-status").inner_text()
        assert f"{stem}.txt" in status and "evil_name.pdf: not a PDF file" in status
        assert page.locator("#cqa-table").get_by_text(stem).count() >= 1
        shot(page, "06_library_uploaded")
        assert {d.record.doc_id for d in qa.documents()} == before | {stem}

        page.get_by_role("tab", name="Chat").click()
        page.locator("#cqa-docs input").click()
        assert page.get_by_role("option", name=re.compile(stem)).count() == 1  # new doc is in the filter
        page.keyboard.press("Escape")
        ask(page, "Where is the joint water commission of the Sevan Water Accord?", 1)
        assert stem in card_doc_ids(page, 1)
        assert "Dilijan" in page.locator("#cqa-chat .cqa-answer").first.inner_text()
    finally:
        if stem in {d.record.doc_id for d in qa.documents()}:
            remove_document(qa, stem)
    assert {d.record.doc_id for d in qa.documents()} == before
    assert not (qa.settings.store.store_dir / "uploads" / f"{stem}.txt").exists()


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"page scrolls sideways: {width}px"


def teardown_module() -> None:
    shutil.rmtree(SHOTS.parent / "tmp", ignore_errors=True)
