"""HTML of answers and source cards: markers linked to cards, highlights, hostile text escaped."""

from __future__ import annotations

import html
import re
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from caucasus_qa.ui.render import (
    anchor,
    answer_html,
    conversation_sources_html,
    highlight,
    link_markers,
    source_card,
    sources_html,
)

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def src(rank: int, **kw: Any) -> dict[str, Any]:
    base = {
        "rank": rank,
        "text": f"Passage {rank}. Iran watches Azerbaijan closely. Israel sells drones.",
        "doc_id": f"doc{rank}",
        "title": f"Title {rank}",
        "authors": ["Ann Author", "Bob Writer"],
        "section": "Intro › Context",
        "references": [f"Ref {rank}a", f"Ref {rank}b"],
        "footnotes": [7, 8],
        "citation": f"Author, Title {rank}",
        "score": 0.5,
        "chunk_id": f"doc{rank}:0",
        "venue": "Venue",
        "date": "2024",
        "highlights": [],
    }
    base.update(kw)
    return base


def answer(**kw: Any) -> dict[str, Any]:
    base = {
        "question": "Why?",
        "query": "Why?",
        "answer": "Iran watches Azerbaijan closely. [1] Israel sells drones. [2]",
        "abstained": False,
        "mode": "extractive",
        "sources": [src(1), src(2), src(3)],
    }
    base.update(kw)
    return base


def test_markers_link_to_the_cards_of_the_same_turn() -> None:
    a = answer()
    bubble = answer_html(a, turn=4)
    cards = sources_html(a, turn=4)
    hrefs = re.findall(r'class="cqa-marker" href="#([^"]+)"', bubble)
    assert hrefs == [anchor(4, 1), anchor(4, 2)]
    for h in hrefs:
        assert f'id="{h}"' in cards


def test_unknown_and_grouped_markers() -> None:
    out = link_markers("a [1, 3] b [9] c [2;1]", turn=1, ranks=[1, 2, 3])
    assert out.count('class="cqa-marker"') == 4  # 1, 3, 2, 1
    assert "[9]" in out and 'href="#cqa-t1-s9"' not in out


def test_answer_text_is_escaped() -> None:
    out = answer_html(answer(answer=HOSTILE + " [1]", question=HOSTILE, query="rewritten " + HOSTILE), turn=1)
    assert "<script" not in out and "<img" not in out
    assert "&lt;script&gt;" in out
    assert "Searched for" in out  # query differs from question


def test_query_not_shown_when_same_as_question() -> None:
    assert "Searched for" not in answer_html(answer(), turn=1)


def test_abstention_renders_differently_and_still_lists_passages() -> None:
    a = answer(abstained=True, answer="The corpus does not appear to answer this question.")
    bubble = answer_html(a, turn=2)
    assert 'class="cqa-abstain"' in bubble and 'class="cqa-answer"' not in bubble
    assert "Not in these documents" in bubble
    assert "cqa-why" not in bubble  # no reasons given, no empty line
    why = answer_html({**a, "abstention_reasons": ["no passage mentions <Kazakhstan>"]}, turn=2)
    assert '<p class="cqa-why">Why: no passage mentions &lt;Kazakhstan&gt;.</p>' in why
    cards = sources_html(a, turn=2)
    assert "Closest passages" in cards
    assert cards.count('class="cqa-card"') == 3
    assert " open" not in cards  # folded, since none of them answers


def test_card_fields_escaped_and_collapsible() -> None:
    s = src(
        1, title=HOSTILE, authors=[HOSTILE], references=[HOSTILE], section=HOSTILE, text=HOSTILE, venue="V&A"
    )
    card = source_card(s, turn=1)
    assert "<script" not in card and "<img" not in card
    assert card.startswith('<details class="cqa-card" id="cqa-t1-s1"')
    assert "<summary>" in card and "V&amp;A" in card
    assert "7. " in card  # footnote number beside its reference


def test_card_shows_rank_title_authors_venue_date_section_refs() -> None:
    card = source_card(src(3), turn=1)
    for part in (
        "[3]",
        "Title 3",
        "Ann Author, Bob Writer",
        "Venue",
        "2024",
        "Intro › Context",
        "Ref 3a",
        "Ref 3b",
    ):
        assert part in card


def test_highlights_wrap_spans_in_mark() -> None:
    text = "One <b>two</b> three."
    out = highlight(text, [(4, 14)])
    assert out == "One <mark>&lt;b&gt;two&lt;/b&gt;</mark> three."
    card = source_card(src(1, text=text, highlights=[(4, 14)]), turn=1)
    assert "<mark>&lt;b&gt;two&lt;/b&gt;</mark>" in card


def test_highlights_merge_overlaps_and_clip() -> None:
    assert (
        highlight("abcdefgh", [(5, 99), (1, 3), (2, 4), (50, 60), (3, 3)])
        == "a<mark>bcd</mark>e<mark>fgh</mark>"
    )


@given(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
    st.lists(st.tuples(st.integers(-5, 70), st.integers(-5, 70)), max_size=5),
)
def test_highlight_keeps_the_text(text: str, spans: list[tuple[int, int]]) -> None:
    out = highlight(text, spans)
    assert "<" not in out.replace("<mark>", "").replace("</mark>", "")
    assert html.unescape(out.replace("<mark>", "").replace("</mark>", "")) == text


def test_conversation_sources_keep_every_turns_anchors() -> None:
    out = conversation_sources_html([answer(question="first"), answer(question="second")])
    assert 'id="cqa-t1-s1"' in out and 'id="cqa-t2-s1"' in out
    assert out.index("cqa-t2-s1") < out.index("cqa-t1-s1")  # newest first
    assert "Sources of the answer appear here" in conversation_sources_html([])
