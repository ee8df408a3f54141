"""The optional reader stage: an answer written by a :class:`Reader` over the extractive answer's
sources, kept only when it cites them (see :func:`caucasus_qa.llm.validate_citations`).

The extractive answer needs no reader. The one shipped is :class:`caucasus_qa.llm.LLMClient`, an
OpenAI-compatible endpoint that :func:`reader_from` builds from ``llm.url`` and ``llm.model``;
``Assistant(reader=...)`` injects any other.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Protocol

from .llm import LLMClient, LLMError, validate_citations
from .schema import Answer, Source
from .settings import Settings

__all__ = ["Reader", "reader_from", "stream_synthesis", "synthesize", "validated"]


class Reader(Protocol):
    """Writes the answer to a question from its numbered sources, citing them as ``[n]``; a failure
    is an :class:`~caucasus_qa.llm.LLMError` (the extractive answer is given instead)."""

    def complete(self, question: str, sources: Sequence[Source]) -> str: ...

    def stream(self, question: str, sources: Sequence[Source]) -> Iterator[str]:
        """The same answer as text deltas, as they arrive."""
        ...


def reader_from(settings: Settings, required: bool = False) -> Reader | None:
    """The reader the settings choose: the endpoint of ``llm.url`` and ``llm.model``; None when they
    are unset, or with ``required`` an :class:`~caucasus_qa.llm.LLMError` that says how to set them."""
    if not required and (settings.llm.url is None or settings.llm.model is None):
        return None
    return LLMClient.from_settings(settings)


def synthesize(client: Reader, question: str, sources: list[Source], fallback: str) -> tuple[str, str]:
    """``(answer, mode)``: the reader's answer to ``question`` over ``sources``, as :func:`validated`."""
    try:
        text = client.complete(question, sources)
    except LLMError:
        text = ""
    return validated(text, sources, fallback)


def validated(text: str, sources: Sequence[Source], fallback: str) -> tuple[str, str]:
    """``(answer, mode)``: the LLM's text with markers pointing at no source removed, or, with
    no valid citation left, the extractive ``fallback``."""
    checked = validate_citations(text, len(sources)) if text else None
    return (checked, "llm") if checked else (fallback, "extractive")


def stream_synthesis(client: Reader | None, base: Answer) -> Iterator[str | Answer]:
    """Stream the reader's answer over ``base`` (the extractive answer and its sources), then the
    final ``Answer``: validated as in :func:`synthesize`, ``base`` itself when it falls back."""
    if client is None or base.abstained:
        yield base.answer
        yield base
        return
    t0 = time.perf_counter()
    parts: list[str] = []
    try:
        for delta in client.stream(base.query or base.question, base.sources):
            parts.append(delta)
            yield delta
    except LLMError:
        parts = []
    text, mode = validated("".join(parts), base.sources, base.answer)
    spent = time.perf_counter() - t0
    timings = {k: v + spent if k in ("answer_s", "total_s") else v for k, v in base.timings.items()}
    yield replace(base, answer=text, mode=mode, timings=timings) if mode == "llm" else base
