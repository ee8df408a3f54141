"""Chunking stage: structure-aware chunks that always fit the embedder, with their citations.

Chunks follow sentence and paragraph boundaries and never cross a section or a document. Short
paragraphs of one section are packed together; long ones are split between sentences, with one
sentence of overlap. Every chunk is checked against the real tokenizer on exactly the text that
is embedded (metadata header included), so nothing is ever silently truncated.

LlamaIndex's ``SentenceSplitter`` counts tokens but returns neither sentence offsets nor a
guarantee on the text *with* its metadata header, and it cannot respect our paragraph and
section boundaries; so the packing is ours, while sentence detection is LlamaIndex's bundled
Punkt tokenizer and the node format (metadata templates, excluded keys) is LlamaIndex's.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace

from llama_index.core.schema import MetadataMode, NodeRelationship, RelatedNodeInfo, TextNode

from .pages import page_at
from .schema import Chunk, DocumentRecord, Paragraph, ParsedDocument

SECTION_SEP = " › "
TokenCounter = Callable[[Sequence[str]], list[int]]

# Metadata keys the embedder sees (in this order, via the node's metadata template). Everything
# else rides along for citation and filtering only.
EMBED_KEYS = ("title", "section")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) covering ``text``, from LlamaIndex's bundled Punkt tokenizer."""
    from llama_index.core.utils import globals_helper

    spans = list(globals_helper.punkt_tokenizer.span_tokenize(text))
    if not spans:
        return [(0, len(text))] if text.strip() else []
    # Extend each span to the start of the next so that no character is lost between sentences.
    out = [(spans[i][0], spans[i + 1][0]) for i in range(len(spans) - 1)]
    out.append((spans[-1][0], len(text)))
    if out[0][0] > 0:
        out[0] = (0, out[0][1])
    return out


def chunk_id(doc_id: str, position: int, text: str) -> str:
    """Deterministic id from document identity, position and content."""
    digest = hashlib.sha256(f"{doc_id}\x1f{position}\x1f{text}".encode()).hexdigest()[:12]
    return f"{doc_id}:{position:04d}:{digest}"


@dataclass(frozen=True)
class _Piece:
    """A sentence (or a word window of an over-long sentence) with its span in the document text."""

    start: int
    end: int
    tokens: int
    paragraph: Paragraph


class Chunker:
    def __init__(
        self,
        count_tokens: TokenCounter,
        max_seq_tokens: int = 256,
        chunk_tokens: int = 160,
        overlap_sentences: int = 1,
        special_tokens: int = 2,
    ) -> None:
        self.count_tokens = count_tokens
        self.max_seq_tokens = max_seq_tokens
        self.chunk_tokens = chunk_tokens
        self.overlap = overlap_sentences
        self.special_tokens = special_tokens

    # -- public -------------------------------------------------------------------------------
    def chunk(self, doc: ParsedDocument) -> list[Chunk]:
        raw: list[Chunk] = []
        for section, paragraphs in _by_section(doc.paragraphs):
            header_tokens = self.count_tokens([embed_header(doc.record, section)])[0]
            limit = self.max_seq_tokens - self.special_tokens - header_tokens - 4  # 4: separators
            budget = max(16, min(self.chunk_tokens, limit))
            for pieces in self._pack(doc, paragraphs, budget):
                raw.extend(self._fit(doc, section, pieces, limit))
        return _link(doc, raw)

    def embedded_tokens(self, node: TextNode) -> int:
        """Word pieces the embedder sees for this node, special tokens included."""
        return self.count_tokens([node.get_content(MetadataMode.EMBED)])[0] + self.special_tokens

    # -- packing ------------------------------------------------------------------------------
    def _pieces(self, doc: ParsedDocument, paragraph: Paragraph, budget: int) -> list[_Piece]:
        spans = [(paragraph.start + a, paragraph.start + b) for a, b in sentence_spans(paragraph.text)]
        counts = self.count_tokens([doc.text[a:b] for a, b in spans])
        pieces: list[_Piece] = []
        for (a, b), n in zip(spans, counts, strict=True):
            if n <= budget:
                pieces.append(_Piece(a, b, n, paragraph))
            else:
                pieces.extend(self._word_windows(doc.text, a, b, budget, paragraph))
        return pieces

    def _word_windows(self, text: str, start: int, end: int, budget: int, p: Paragraph) -> list[_Piece]:
        words = [(start + m.start(), start + m.end()) for m in re.finditer(r"\S+\s*", text[start:end])]
        counts = self.count_tokens([text[a:b] for a, b in words])
        out: list[_Piece] = []
        cur_start, cur_tokens = words[0][0], 0
        for (a, _end), n in zip(words, counts, strict=True):
            if cur_tokens and cur_tokens + n > budget:
                out.append(_Piece(cur_start, a, cur_tokens, p))
                cur_start, cur_tokens = a, 0
            cur_tokens += min(n, budget)  # a single absurd "word" is cut by _fit's exact check
        out.append(_Piece(cur_start, end, cur_tokens, p))
        return out

    def _pack(self, doc: ParsedDocument, paragraphs: list[Paragraph], budget: int) -> Iterator[list[_Piece]]:
        current: list[_Piece] = []
        for paragraph in paragraphs:
            pieces = self._pieces(doc, paragraph, budget)
            if not pieces:
                continue
            total = sum(p.tokens for p in pieces)
            # A whole paragraph that fits beside what we hold joins it; otherwise flush first.
            if current and sum(p.tokens for p in current) + total <= budget:
                current.extend(pieces)
                continue
            if current:
                yield current
                current = []
            if total <= budget:
                current = list(pieces)
                continue
            yield from self._split_paragraph(pieces, budget)
        if current:
            yield current

    def _split_paragraph(self, pieces: list[_Piece], budget: int) -> Iterator[list[_Piece]]:
        window: list[_Piece] = []
        tokens = 0
        i = 0
        while i < len(pieces):
            piece = pieces[i]
            if window and tokens + piece.tokens > budget:
                yield window
                keep = window[-self.overlap :] if self.overlap and len(window) > self.overlap else []
                if keep and sum(p.tokens for p in keep) + piece.tokens > budget:
                    keep = []
                window, tokens = list(keep), sum(p.tokens for p in keep)
                continue
            window.append(piece)
            tokens += piece.tokens
            i += 1
        if window:
            yield window

    def _fit(
        self, doc: ParsedDocument, section: tuple[str, ...], pieces: list[_Piece], limit: int
    ) -> list[Chunk]:
        """Build the chunk and check it exactly; halve it (or cut words) until it fits."""
        start, end = pieces[0].start, pieces[-1].end
        chunk = _make_chunk(doc, section, pieces, start, end)
        node = to_node(chunk, doc.record)
        if self.embedded_tokens(node) <= self.max_seq_tokens:
            return [chunk]
        if len(pieces) > 1:
            mid = len(pieces) // 2
            return self._fit(doc, section, pieces[:mid], limit) + self._fit(doc, section, pieces[mid:], limit)
        # one piece still too long (e.g. a URL the tokenizer explodes): cut it by characters
        half = start + (end - start) // 2
        p = pieces[0].paragraph
        left, right = _Piece(start, half, 0, p), _Piece(half, end, 0, p)
        return self._fit(doc, section, [left], limit) + self._fit(doc, section, [right], limit)


def _by_section(paragraphs: list[Paragraph]) -> Iterator[tuple[tuple[str, ...], list[Paragraph]]]:
    group: list[Paragraph] = []
    for p in paragraphs:
        if group and p.section != group[0].section:
            yield group[0].section, group
            group = []
        group.append(p)
    if group:
        yield group[0].section, group


def _make_chunk(
    doc: ParsedDocument, section: tuple[str, ...], pieces: list[_Piece], start: int, end: int
) -> Chunk:
    # trim whitespace off the span so the text is exactly doc.text[start:end]
    text = doc.text[start:end]
    start += len(text) - len(text.lstrip())
    end -= len(text) - len(text.rstrip())
    text = doc.text[start:end]
    numbers: list[int] = []
    markers: list[tuple[int, int]] = []
    for paragraph in dict.fromkeys(p.paragraph for p in pieces):
        for offset, number in paragraph.marker_offsets:
            at = paragraph.start + offset
            if start <= at <= end and number in doc.footnotes:
                markers.append((at - start, number))
            if start <= at <= end and number not in numbers:
                numbers.append(number)
    refs = tuple(doc.footnotes[n].text for n in numbers if n in doc.footnotes)
    numbers = [n for n in numbers if n in doc.footnotes]
    first, last = pieces[0].paragraph, pieces[-1].paragraph
    pages = (
        (page_at(first.page_breaks, start - first.start), page_at(last.page_breaks, end - 1 - last.start))
        if first.page_breaks and last.page_breaks
        else ()
    )
    return Chunk(
        chunk_id="",
        doc_id=doc.doc_id,
        text=text,
        section=SECTION_SEP.join(section),
        paragraph_index=pieces[0].paragraph.index,
        position=0,
        start=start,
        end=end,
        footnotes=tuple(numbers),
        references=refs,
        markers=tuple(markers),
        pages=pages,
    )


def _link(doc: ParsedDocument, chunks: list[Chunk]) -> list[Chunk]:
    chunks = [c for c in chunks if c.text.strip()]
    positioned = [
        replace(c, position=i, chunk_id=chunk_id(doc.doc_id, i, c.text)) for i, c in enumerate(chunks)
    ]
    ids = [c.chunk_id for c in positioned]
    return [
        replace(c, prev_id=ids[i - 1] if i else "", next_id=ids[i + 1] if i + 1 < len(ids) else "")
        for i, c in enumerate(positioned)
    ]


def embed_header(record: DocumentRecord, section: tuple[str, ...] | str) -> str:
    """The metadata text embedded with every chunk (must match ``to_node``'s EMBED content)."""
    sec = section if isinstance(section, str) else SECTION_SEP.join(section)
    return to_node(
        Chunk(
            chunk_id="x",
            doc_id=record.doc_id,
            text="",
            section=sec,
            paragraph_index=0,
            position=0,
            start=0,
            end=0,
        ),
        record,
    ).get_content(MetadataMode.EMBED)


def to_node(chunk: Chunk, record: DocumentRecord) -> TextNode:
    """The LlamaIndex node for a chunk: scalar metadata only (Chroma's rule), lists JSON-encoded."""
    metadata: dict[str, str | int] = {
        "title": record.title,
        "section": chunk.section,
        "doc_id": chunk.doc_id,
        "authors": json.dumps(list(record.authors), ensure_ascii=False),
        "venue": record.venue,
        "date": record.date,
        "paragraph_index": chunk.paragraph_index,
        "position": chunk.position,
        "start": chunk.start,
        "end": chunk.end,
        "prev_id": chunk.prev_id,
        "next_id": chunk.next_id,
        "footnotes": ",".join(str(n) for n in chunk.footnotes),
        "references": json.dumps(list(chunk.references), ensure_ascii=False),
        "markers": ",".join(f"{offset}:{number}" for offset, number in chunk.markers),
        "pages": "-".join(str(p) for p in chunk.pages),
    }
    hidden = [k for k in metadata if k not in EMBED_KEYS]
    node = TextNode(
        id_=chunk.chunk_id,
        text=chunk.text,
        metadata=metadata,
        excluded_embed_metadata_keys=hidden,
        excluded_llm_metadata_keys=hidden,
        metadata_template="{value}",
        metadata_separator=SECTION_SEP,
        text_template="{metadata_str}\n\n{content}",
    )
    node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=chunk.doc_id)
    return node


def from_metadata(chunk_id_: str, text: str, metadata: dict[str, object]) -> Chunk:
    """Inverse of ``to_node`` for what comes back from a store."""
    foot = str(metadata.get("footnotes") or "")
    return Chunk(
        chunk_id=chunk_id_,
        doc_id=str(metadata["doc_id"]),
        text=text,
        section=str(metadata.get("section", "")),
        paragraph_index=int(metadata.get("paragraph_index", 0)),  # type: ignore[call-overload]
        position=int(metadata.get("position", 0)),  # type: ignore[call-overload]
        start=int(metadata.get("start", 0)),  # type: ignore[call-overload]
        end=int(metadata.get("end", 0)),  # type: ignore[call-overload]
        footnotes=tuple(int(n) for n in foot.split(",") if n),
        references=tuple(json.loads(str(metadata.get("references") or "[]"))),
        prev_id=str(metadata.get("prev_id", "")),
        next_id=str(metadata.get("next_id", "")),
        markers=parse_markers(str(metadata.get("markers") or "")),
        pages=tuple(int(p) for p in str(metadata.get("pages") or "").split("-") if p),
    )


def parse_markers(text: str) -> tuple[tuple[int, int], ...]:
    """``"12:3,40:4"`` → ``((12, 3), (40, 4))`` (offset in the chunk text, footnote number)."""
    pairs = (item.split(":", 1) for item in text.split(",") if ":" in item)
    return tuple((int(offset), int(number)) for offset, number in pairs)
