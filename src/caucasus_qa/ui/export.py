"""The conversation as Markdown: each answer's ``[n]`` renumbered into one reference list at the end."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..pages import page_label
from ..present import abstention_why
from .render import MARKER


def conversation_markdown(answers: list[dict[str, Any]], title: str = "caucasus-qa conversation") -> str:
    """``answers``: ``Answer.to_dict()`` of each turn, in order. The same passage keeps one number."""
    numbers: dict[str, int] = {}
    refs: list[str] = []
    lines = [f"# {title}", ""]
    for turn, ans in enumerate(answers, start=1):
        local: dict[int, int] = {}
        for s in ans.get("sources", []):
            key = s.get("chunk_id") or f"{turn}:{s['rank']}"
            if key not in numbers:
                numbers[key] = len(refs) + 1
                refs.append(_reference(s))
            local[int(s["rank"])] = numbers[key]

        def renumber(m: re.Match[str], local: dict[int, int] = local) -> str:
            nums = [int(n) for n in re.split(r"\s*[,;]\s*", m.group(1))]
            if not all(n in local for n in nums):
                return m.group(0)
            return "".join(f"[{local[n]}]" for n in nums)

        lines.append(f"## {turn}. {_one_line(ans.get('question', ''))}")
        lines.append("")
        query = ans.get("query") or ""
        if query and query != ans.get("question"):
            lines += [f"*Searched for:* {_one_line(query)}", ""]
        text = MARKER.sub(renumber, str(ans.get("answer", "")))
        if ans.get("abstained"):
            text = f"> **Not in these documents.** {text}"
            why = abstention_why(ans.get("abstention_reasons") or [])
            if why:
                text += f"\n>\n> *Why:* {why}"
        lines += [text, ""]
        cited = sorted(set(local.values()))
        if cited:
            label = "Closest passages" if ans.get("abstained") else "Sources"
            lines += [f"{label}: " + ", ".join(f"[{n}]" for n in cited), ""]
    if refs:
        lines += ["## References", ""]
        lines += [f"{i}. {r}" for i, r in enumerate(refs, start=1)]
        lines.append("")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _reference(s: dict[str, Any]) -> str:
    authors = ", ".join(s.get("authors") or []) or "Unknown author"
    bits = [authors, f"“{_one_line(s.get('title') or s.get('doc_id', ''))}”"]
    bits += [x for x in (s.get("venue"), s.get("date")) if x]
    where = f", § {_one_line(s['section'])}" if s.get("section") else ""
    if s.get("pages"):
        where += f", {page_label(s['pages'])}"  # "p. 4" / "pp. 4–5"
    quote = _one_line(s.get("text", ""))
    if len(quote) > 300:
        quote = quote[:299].rstrip() + "…"
    return f"{', '.join(bits)}{where} ({s.get('doc_id', '')}). > {quote}"


def write_markdown(answers: list[dict[str, Any]], directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "caucasus-qa-conversation.md"
    path.write_text(conversation_markdown(answers), encoding="utf-8")
    return path
