"""The optional LLM stage: an answer written by the configured endpoint over the extractive answer's
sources, kept only when it cites them (see :func:`caucasus_qa.llm.validate_citations`)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import replace

from .llm import LLMClient, LLMError, validate_citations
from .schema import Answer, Source

__all__ = ["stream_synthesis", "synthesize", "validated"]


def synthesize(client: LLMClient, question: str, sources: list[Source], fallback: str) -> tuple[str, str]:
    """``(answer, mode)``: the LLM's answer to ``question`` over ``sources``, as :func:`validated`."""
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


def stream_synthesis(client: LLMClient | None, base: Answer) -> Iterator[str | Answer]:
    """Stream the LLM's answer over ``base`` (the extractive answer and its sources), then the
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
