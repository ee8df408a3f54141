"""Answers that are not quoted sentences alone: the references a sentence cites, and the catalog record.

* citation questions ("which source does the author cite for …") name the reference entries of the
  footnotes attached to the supporting sentence (``Source.markers`` gives each marker's offset);
* metadata questions ("who wrote …", "where was it published") answer from the catalog record of the
  document and cite one of its passages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .lexicon import which_document
from .query import ASKS_AFFILIATION, asked_record_fields, main_question
from .schema import DocumentRecord, Source

if TYPE_CHECKING:
    from .answer import Candidate
    from .settings import AnswerSettings


def sentence_footnotes(source: Source, start: int, end: int) -> list[int]:
    """Footnote numbers whose markers stood inside (or right after) the sentence ``start:end``."""
    tail = end
    while tail < len(source.text) and source.text[tail] in " \u00a0\t\n\"”’')":
        tail += 1
    return list(dict.fromkeys(n for off, n in source.markers if start < off <= tail))


def _following_footnotes(source: Source, end: int) -> list[int]:
    after = sorted((off, n) for off, n in source.markers if off > end)
    return [after[0][1]] if after else []


def citation_answer(
    scored: list[Candidate], order: list[int], by_rank: Mapping[int, Source], cfg: AnswerSettings
) -> tuple[str, list[Candidate]]:
    best = scored[order[0]].score
    pick: tuple[Candidate, list[int]] | None = None
    for i in order:
        c = scored[i]
        if c.score < best - cfg.citation_window:
            break
        notes = sentence_footnotes(by_rank[c.source_rank], c.start, c.end)
        if notes:
            pick = (c, notes)
            break
    if pick is None:
        c = scored[order[0]]
        pick = (c, _following_footnotes(by_rank[c.source_rank], c.end))
    c, notes = pick
    src = by_rank[c.source_rank]
    refs = dict(zip(src.footnotes, src.references, strict=False))
    entries = [(n, refs[n]) for n in notes if n in refs]
    text = f"{ensure_period(c.text)} [{c.source_rank}]"
    if entries:
        label = "note" if len(entries) == 1 else "notes"
        numbers = ", ".join(str(n) for n, _ in entries)
        cited = "; ".join(" ".join(e.split()).rstrip(" .") for _, e in entries)
        text += f" The source cited for this ({label} {numbers}): {cited}. [{c.source_rank}]"
    return text, [c]


def metadata_line(
    question: str, sources: Sequence[Source], records: Mapping[str, DocumentRecord]
) -> tuple[str, bool]:
    """The catalog record as a sentence, and whether it answers the question by itself (an
    affiliation asked for and recorded; author, venue and date questions still face abstention,
    since a near miss can ask them of a document that lacks them)."""
    if not sources:
        return "", False
    doc_id = which_document(question, records, [s.doc_id for s in sources]) or sources[0].doc_id
    src = next((s for s in sources if s.doc_id == doc_id), sources[0])
    doc_id = src.doc_id
    rec = records.get(doc_id) or DocumentRecord(
        doc_id=doc_id, title=src.title, authors=tuple(src.authors), venue=src.venue, date=src.date
    )
    title = f"\u201c{rec.title}\u201d" if rec.title else "This document"
    who = _join(list(rec.authors))
    sentence = f"{title} was written by {who}" if who else f"{title} names no author"
    if rec.venue:
        sentence += f", published in {_with_acronym(rec)}"
    details = [d for d in (rec.date, rec.kind.replace("-", " ")) if d]
    if details:
        sentence += f" ({'; '.join(details)})"
    if rec.url:
        sentence += f", {rec.url}"
    line = f"{sentence}. [{src.rank}]"
    if rec.affiliation and ASKS_AFFILIATION.search(main_question(question)):
        line += f" The document introduces its author: {ensure_period(rec.affiliation)} [{src.rank}]"
        return line, True
    # the record answers by itself when it holds every field asked for ("who wrote …": its authors);
    # a near miss asks for a field the record lacks ("in which journal …" of a paper with no venue)
    asked = asked_record_fields(question)
    values = {"authors": rec.authors, "venue": rec.venue, "date": rec.date, "title": rec.title}
    return line, bool(asked) and all(values[f] for f in asked)


def _with_acronym(rec: DocumentRecord) -> str:
    acronym = rec.venue_acronym()
    return f"{rec.venue} ({acronym})" if acronym else rec.venue


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def ensure_period(sentence: str) -> str:
    return sentence if sentence[-1:] in ".!?\u201d\"')" else sentence + "."
