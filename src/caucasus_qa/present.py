"""Present stage: plain-text and Markdown renderings of an answer, shared by the CLI and the UI."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from .schema import Answer, Source


def abstention_why(reasons: Sequence[str]) -> str:
    """``Answer.abstention_reasons`` as one sentence, each reason on one line ("" when there are none)."""
    return "; ".join(" ".join(str(r).split()) for r in reasons) + "." if reasons else ""


def format_answer_text(ans: Answer, width: int = 100) -> str:
    lines = []
    if ans.query and ans.query != ans.question:
        lines.append(f"(searched for: {ans.query})")
    lines.append(textwrap.fill(ans.answer, width))
    if ans.abstention_reasons:
        lines.append(textwrap.fill(f"Why: {abstention_why(ans.abstention_reasons)}", width))
    lines.append("")
    lines.append("Sources:")
    for s in ans.sources:
        lines.append(f"[{s.rank}] {s.citation}  (score {s.score:.3f})")
        lines.append(textwrap.indent(textwrap.fill(s.text, width - 4), "    "))
        for ref in s.references:
            lines.append(textwrap.indent(textwrap.fill(f"↳ {ref}", width - 4), "    "))
    return "\n".join(lines)


def source_markdown(s: Source) -> str:
    refs = "".join(f"\n   - {r}" for r in s.references)
    return f"**[{s.rank}]** {s.citation}\n\n> {s.text}{refs}"


def answer_markdown(ans: Answer) -> str:
    parts = []
    if ans.query and ans.query != ans.question:
        parts.append(f"*Searched for:* {ans.query}")
    parts.append(ans.answer)
    if ans.abstention_reasons:
        parts.append(f"*Why:* {abstention_why(ans.abstention_reasons)}")
    parts.append("\n".join(source_markdown(s) for s in ans.sources))
    return "\n\n".join(parts)
