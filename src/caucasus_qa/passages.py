"""Passages: ranked chunks of the retrieve stage, and how they are merged, spread and interleaved.

A :class:`Hit` is one ranked passage. Overlapping or adjacent chunks of one document among the
results are merged into one passage (chunks share a sentence of overlap; the duplicate sentence is
dropped), never beyond :data:`MAX_PASSAGE_CHARS`.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field, replace

from .schema import Chunk

MAX_PASSAGE_CHARS = 1500


@dataclass(frozen=True)
class Hit:
    chunk: Chunk  # for a merged passage: a synthetic chunk spanning its parts (first part's id)
    score: float  # cosine similarity of the question and the passage's best chunk
    fused: float = 0.0  # fusion score that set the order
    parts: tuple[str, ...] = field(default=())  # chunk ids merged into this passage
    rerank_score: float | None = None  # the reranker's score of the passage (None: not reranked)


def passages(scored: list[tuple[Chunk, float]], top_k: int, merge: bool = True) -> list[Hit]:
    """Passages in fused order (``Hit.score`` left at 0: the caller sets it from ``parts``).

    ``merge``: chunks that overlap or touch a passage already taken join it (a later chunk may still
    merge into a returned passage once ``top_k`` are taken); otherwise a chunk with the same span as
    one taken is skipped.
    """
    hits: list[Hit] = []
    for chunk, fused in scored:
        if merge:
            merged = False
            for i, h in enumerate(hits):
                joined = merge_chunks(h.chunk, chunk)
                if joined is not None:
                    hits[i] = Hit(joined, 0.0, h.fused, (*h.parts, chunk.chunk_id))
                    merged = True
                    break
            if merged:
                continue
        elif any(_same_span(h.chunk, chunk) for h in hits):
            continue
        if len(hits) >= top_k:
            if not merge:
                break
            continue  # a later chunk may still merge into a returned passage
        hits.append(Hit(chunk, 0.0, fused, (chunk.chunk_id,)))
    return hits


def spread_over_documents(hits: list[Hit], documents: int) -> list[Hit]:
    """The best passage of each of the first ``documents`` documents in the ranking first, then the
    rest in order: a question about what several articles say needs each of them near the top, and
    a fused ranking tends to give the first places to whichever document matches best."""
    leaders: list[Hit] = []
    seen: set[str] = set()
    for h in hits:
        if h.chunk.doc_id not in seen and len(seen) < documents:
            seen.add(h.chunk.doc_id)
            leaders.append(h)
    return leaders + [h for h in hits if not any(h is g for g in leaders)]


def interleave(lists: list[list[Hit]], top_k: int) -> list[Hit]:
    """Round-robin over all lists but the last, then the last in order; overlapping passages dropped."""
    pool = [h for rank in itertools.zip_longest(*lists[:-1]) for h in rank if h is not None]
    pool += lists[-1]
    hits: list[Hit] = []
    for h in pool:
        if not any(_overlaps(h.chunk, g.chunk) for g in hits):
            hits.append(h)
    return hits[:top_k]


def _overlaps(a: Chunk, b: Chunk) -> bool:
    return a.doc_id == b.doc_id and a.start < b.end and b.start < a.end


def _same_span(a: Chunk, b: Chunk) -> bool:
    return a.doc_id == b.doc_id and a.start == b.start and a.end == b.end


def merge_chunks(a: Chunk, b: Chunk, limit: int = MAX_PASSAGE_CHARS) -> Chunk | None:
    """One passage for two chunks of a document that overlap or touch, or None (too long or apart).

    Chunks touch when one ends where the next begins up to whitespace (consecutive positions). The
    text is rebuilt from the two texts and their spans, so the shared sentence appears once.
    """
    if a.doc_id != b.doc_id or a.section != b.section:
        return None  # a passage, like a chunk, stays inside one section (its citation names it)
    first, second = (a, b) if (a.start, a.end) <= (b.start, b.end) else (b, a)
    if second.end <= first.end:  # contained
        return first
    adjacent = second.start >= first.end and (
        first.next_id == second.chunk_id
        or second.prev_id == first.chunk_id
        or second.position == first.position + 1
    )
    if second.start < first.end:
        text = first.text + second.text[first.end - second.start :]
    elif adjacent:
        sep = "\n\n" if second.paragraph_index != first.paragraph_index else " "
        text = first.text + sep + second.text
    else:
        return None
    if len(text) > limit:
        return None
    numbers = list(dict.fromkeys((*first.footnotes, *second.footnotes)))
    refs = list(dict.fromkeys((*first.references, *second.references)))
    return replace(
        first,
        text=text,
        end=second.end,
        footnotes=tuple(numbers),
        references=tuple(refs),
        next_id=second.next_id,
    )
