"""Follow-up questions rewritten into standalone queries, without a language model.

``rewrite_query(messages)`` looks at the last user message of a conversation (Gradio's messages
format: ``[{"role": "user" | "assistant", "content": str}, ...]``). A question that stands on its
own is returned unchanged. A follow-up — it opens with "And …", "What about …", "How about …", or
uses a pronoun or demonstrative ("he", "it", "that figure"), or is too short to search for — is
made standalone:

* "he/she/his/her/him" become the author's surname when the previous turn named an author (or asked
  who wrote a document that the catalog identifies, or the assistant's answer named one);
* the previous question (itself rewritten first, so chains of follow-ups work) is carried along as
  context, which brings its entities and topic into the search: "What about Hamas?" after "How did
  Iranian politicians react when Azerbaijan appointed its first ambassador to Israel?" becomes
  "What about Hamas? (follow-up to: How did Iranian politicians react … to Israel?)".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from .lexicon import STOPWORDS, content_words, which_document
from .query import CONTEXT_LABEL, main_question
from .query_words import (
    FOLLOW_UP_START,
    PERSON_PRONOUN,
    THAT_REFERENCE,
    THING_PRONOUN,
    WH_WORDS,
    WHO_WROTE,
)
from .schema import DocumentRecord

MAX_CONTEXT_CHARS = 600


def is_follow_up(question: str) -> bool:
    """Does this question lean on an earlier turn (ellipsis, pronouns, demonstratives, too short)?"""
    q = question.strip()
    if (
        FOLLOW_UP_START.search(q)
        or PERSON_PRONOUN.search(q)
        or THING_PRONOUN.search(q)
        or THAT_REFERENCE.search(q)
    ):
        return True
    return len(content_words(q) - WH_WORDS - STOPWORDS) <= 1


def rewrite_query(
    messages: Sequence[Mapping[str, Any]], records: Mapping[str, DocumentRecord] | None = None
) -> str:
    """The standalone query for the last user message of ``messages``."""
    turns = [(str(m.get("role", "")), _text(m.get("content", ""))) for m in messages]
    users = [i for i, (role, _) in enumerate(turns) if role == "user"]
    if not users:
        return ""
    last = users[-1]
    question = turns[last][1]
    if len(users) < 2 or not is_follow_up(question):
        return question
    prev_index = users[-2]
    previous = rewrite_query([{"role": r, "content": c} for r, c in turns[: prev_index + 1]], records)
    between = " ".join(c for r, c in turns[prev_index + 1 : last] if r == "assistant")
    resolved = _resolve_person(question, previous, between, records or {})
    context = main_question(previous)
    if len(context) > MAX_CONTEXT_CHARS:
        context = context[:MAX_CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"
    return f"{resolved} ({CONTEXT_LABEL} {context})"


def _text(content: Any) -> str:
    """Gradio may hand content as a string, a list of parts, or a dict with ``text``."""
    if isinstance(content, str):
        text = content
    elif isinstance(content, Mapping):
        text = str(content.get("text", ""))
    elif isinstance(content, Sequence):
        text = " ".join(_text(c) for c in content)
    else:
        text = str(content or "")
    return " ".join(text.split())


def _person(previous: str, answer: str, records: Mapping[str, DocumentRecord]) -> str:
    """The author the previous turn was about: named in the question, its answer, or asked for."""
    for text in (previous, answer):
        for rec in records.values():
            for author in rec.authors:
                surname = author.split()[-1] if author.split() else ""
                if surname and re.search(rf"\b{re.escape(surname)}\b", text):
                    return surname
    if WHO_WROTE.search(previous):
        doc = which_document(previous, records)
        found = records.get(doc) if doc else None
        if found and found.authors:
            return found.authors[0].split()[-1]
    return ""


def _resolve_person(question: str, previous: str, answer: str, records: Mapping[str, DocumentRecord]) -> str:
    name = _person(previous, answer, records)
    if not name:
        return question

    def sub(m: re.Match[str]) -> str:
        word = m.group(1).lower()
        if word in ("his", "hers"):
            return f"{name}'s"
        if word == "her":  # object or possessive: possessive when a noun follows
            rest = question[m.end() :].lstrip()
            return (
                f"{name}'s" if rest[:1].isalpha() and not rest.lower().startswith(("for ", "to ")) else name
            )
        return name

    return PERSON_PRONOUN.sub(sub, question)
