"""The reader seam (issue 14): an answer written by a reader goes through the ``Reader`` protocol of
``synthesis.py``, injected as ``Assistant(reader=...)`` or chosen by the settings; the extractive
answer needs none. The fake reader here is a plain object: no endpoint, no network."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from caucasus_qa.llm import LLMClient
from caucasus_qa.schema import Answer, Source
from caucasus_qa.settings import Settings
from caucasus_qa.synthesis import reader_from, synthesize

QUESTION = "How many troops did Iran move to its border with Armenia in September 2022?"


class FakeReader:
    """Records what it was asked and answers with canned, cited text."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, list[str]]] = []

    def complete(self, question: str, sources: Sequence[Source]) -> str:
        self.calls.append(("complete", question, [s.chunk_id for s in sources]))
        return f"The fake reader read {len(sources)} sources [1]."

    def stream(self, question: str, sources: Sequence[Source]) -> Iterator[str]:
        self.calls.append(("stream", question, [s.chunk_id for s in sources]))
        yield "The fake reader "
        yield "streams [1]."


def _source() -> Source:
    return Source(1, "Iran moved troops.", "d", "T", [], "", [], citation="T", score=0.5)


def test_synthesis_validates_what_the_reader_wrote() -> None:
    reader = FakeReader()
    assert synthesize(reader, "q?", [_source()], "fallback") == ("The fake reader read 1 sources [1].", "llm")
    assert reader.calls == [("complete", "q?", [""])]


def test_the_settings_choose_the_reader() -> None:
    assert reader_from(Settings()) is None  # no endpoint configured: no reader, no error
    configured = Settings(llm={"url": "http://127.0.0.1:9/v1", "model": "m"})
    assert isinstance(reader_from(configured), LLMClient)


@pytest.mark.integration
def test_an_injected_reader_writes_the_answer(qa: Any) -> None:
    from caucasus_qa import Assistant

    assert qa.settings.llm.url is None  # nothing configured: only the injected reader can answer
    reader = FakeReader()
    seam = Assistant(settings=qa.settings, reader=reader)
    plain = seam.ask(QUESTION)
    assert plain.mode == "extractive" and reader.calls == []  # the extractive answer needs no reader
    ans = seam.ask(QUESTION, llm=True)
    assert ans.mode == "llm" and ans.answer == f"The fake reader read {len(ans.sources)} sources [1]."
    assert reader.calls == [("complete", QUESTION, [s.chunk_id for s in ans.sources])]
    *deltas, final = list(seam.ask_stream(QUESTION))  # llm=None: the injected reader streams
    assert deltas == ["The fake reader ", "streams [1]."]
    assert isinstance(final, Answer) and final.mode == "llm"
    assert final.answer == "The fake reader streams [1]."
    assert reader.calls[-1][0] == "stream"
