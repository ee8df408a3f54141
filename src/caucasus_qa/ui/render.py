"""HTML for answers and source cards. Every piece of document text is escaped: it is untrusted.

Anchor ids carry a per-answer prefix (``cqa-t3-s2`` = turn 3, source 2) so that several answers on
one page never share an id.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from ..pages import page_label
from ..present import abstention_why
from ..schema import Answer

# ``[3]``, ``[1, 2]`` or ``[1; 4]`` in an answer
MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")


def anchor(turn: int, rank: int) -> str:
    return f"cqa-t{turn}-s{rank}"


def link_markers(text: str, turn: int, ranks: Sequence[int]) -> str:
    """Escape ``text`` and turn each ``[n]`` whose ``n`` is a source rank into a link to its card."""
    known = set(ranks)
    out: list[str] = []
    pos = 0
    for m in MARKER.finditer(text):
        out.append(escape(text[pos : m.start()]))
        nums = [int(n) for n in re.split(r"\s*[,;]\s*", m.group(1))]
        if not all(n in known for n in nums):
            out.append(escape(m.group(0)))
        else:
            out.append(
                "".join(
                    f'<a class="cqa-marker" href="#{anchor(turn, n)}" title="Source {n}">[{n}]</a>'
                    for n in nums
                )
            )
        pos = m.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def highlight(text: str, spans: Sequence[Sequence[int]]) -> str:
    """Escape ``text`` and wrap each ``(start, end)`` span in ``<mark>``; overlapping spans are merged."""
    clean = sorted((max(0, int(a)), min(len(text), int(b))) for a, b in spans if int(b) > int(a))
    merged: list[list[int]] = []
    for a, b in clean:
        if a >= len(text):
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    out: list[str] = []
    pos = 0
    for a, b in merged:
        out.append(escape(text[pos:a]))
        out.append(f"<mark>{escape(text[a:b])}</mark>")
        pos = b
    out.append(escape(text[pos:]))
    return "".join(out)


def answer_html(ans: dict[str, Any], turn: int) -> str:
    """The chat bubble of one answer (``Answer.to_dict()``): text with linked markers, abstention box."""
    ranks = [int(s["rank"]) for s in ans.get("sources", [])]
    parts: list[str] = []
    query, question = ans.get("query") or "", ans.get("question") or ""
    if query and query != question:
        parts.append(f'<p class="cqa-query">Searched for: <em>{escape(query)}</em></p>')
    body = link_markers(str(ans.get("answer", "")), turn, ranks)
    if ans.get("abstained"):
        n = len(ranks)
        closest = f" The {n} closest passage{'s' if n != 1 else ''} are listed under Sources." if n else ""
        reasons = abstention_why(ans.get("abstention_reasons") or [])
        why = f'<p class="cqa-why">Why: {escape(reasons)}</p>' if reasons else ""
        parts.append(
            f'<div class="cqa-abstain" role="note"><strong>Not in these documents.</strong> '
            f"{body}{escape(closest)}{why}</div>"
        )
    else:
        parts.append(f'<div class="cqa-answer">{body}</div>')
    mode = ans.get("mode") or "extractive"
    parts.append(
        f'<p class="cqa-meta">{escape(str(mode))} answer · {len(ranks)} sources · '
        f'<a class="cqa-copy" role="button" href="#cqa-copy-t{turn}" '
        'title="Copy answer and sources">Copy</a></p>'
    )
    return "\n".join(parts)


def writing_html(text: str) -> str:
    """The chat bubble of an answer the LLM is still writing: the text so far, escaped, its markers
    not linked yet (the final, checked answer replaces the bubble)."""
    return (
        f'<div class="cqa-answer cqa-writing">{escape(text)}</div>\n'
        '<p class="cqa-meta">llm answer · writing; citations are checked when it is complete</p>'
    )


def source_card(src: dict[str, Any], turn: int, open_: bool = True) -> str:
    rank = int(src["rank"])
    authors = ", ".join(src.get("authors") or []) or "Unknown author"
    meta = " · ".join(escape(str(x)) for x in (authors, src.get("venue") or "", src.get("date") or "") if x)
    section = src.get("section") or ""
    pages = page_label(src.get("pages") or [])  # "p. 4" / "pp. 4–5"; "" for text files
    place = " · ".join(escape(str(x)) for x in (f"§ {section}" if section else "", pages) if x)
    passage = highlight(str(src.get("text", "")), src.get("highlights") or [])
    refs = src.get("references") or []
    ref_html = ""
    if refs:
        nums = src.get("footnotes") or []
        items = "".join(
            f"<li>{escape(f'{nums[i]}. ' if i < len(nums) else '')}{escape(str(r))}</li>"
            for i, r in enumerate(refs)
        )
        ref_html = f'<div class="cqa-refs"><span>Footnote references</span><ul>{items}</ul></div>'
    score = src.get("score")
    score_html = f'<span class="cqa-score">score {float(score):.3f}</span>' if score is not None else ""
    return (
        f'<details class="cqa-card" id="{anchor(turn, rank)}"{" open" if open_ else ""}>'
        f'<summary><span class="cqa-rank">[{rank}]</span> '
        f'<span class="cqa-title">{escape(str(src.get("title") or src.get("doc_id") or ""))}</span></summary>'
        f'<div class="cqa-card-body">'
        f'<p class="cqa-byline">{meta} {score_html}</p>'
        + (f'<p class="cqa-section">{place}</p>' if place else "")
        + f'<blockquote class="cqa-passage">{passage}'
        f"</blockquote>{ref_html}"
        f'<p class="cqa-docid">{escape(str(src.get("doc_id", "")))}</p>'
        "</div></details>"
    )


def sources_html(ans: dict[str, Any] | None, turn: int) -> str:
    """All source cards of one answer; cards of an abstention start closed."""
    if not ans:
        return '<div class="cqa-sources cqa-empty">Sources of the answer appear here.</div>'
    sources = ans.get("sources") or []
    if not sources:
        return '<div class="cqa-sources cqa-empty">No passages matched.</div>'
    heading = "Closest passages" if ans.get("abstained") else "Sources"
    q = escape(str(ans.get("question", "")))
    cards = "".join(
        source_card(s, turn, open_=not ans.get("abstained") and i < 3) for i, s in enumerate(sources)
    )
    return (
        f'<section class="cqa-sources" aria-label="{heading}">'
        f'<h3>{heading} <span class="cqa-for">for “{q}”</span></h3>{cards}</section>'
    )


def answer_to_dict(ans: Answer | dict[str, Any]) -> dict[str, Any]:
    return ans if isinstance(ans, dict) else ans.to_dict()


def error_html(message: str) -> str:
    return f'<div class="cqa-error" role="alert">{escape(message)}</div>'


def conversation_sources_html(answers: Sequence[dict[str, Any]]) -> str:
    """Cards of every turn, newest first; older turns folded so their markers still find their cards."""
    if not answers:
        return sources_html(None, 0)
    newest = len(answers)
    parts = [sources_html(answers[-1], newest)]
    for turn in range(newest - 1, 0, -1):
        q = escape(str(answers[turn - 1].get("question", "")))
        parts.append(
            f'<details class="cqa-turn"><summary>Turn {turn}: {q}</summary>'
            f"{sources_html(answers[turn - 1], turn)}</details>"
        )
    return "".join(parts)


def user_html(question: str) -> str:
    return f'<span class="cqa-question">{escape(question)}</span>'
