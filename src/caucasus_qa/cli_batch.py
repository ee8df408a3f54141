"""``caucasus-qa ask --batch FILE``: many questions in one process (the model is loaded once).

The file (``-``: standard input) holds one question a line, as plain text or as a JSON object with a
``"question"`` field and optional ``"top_k"``, ``"docs"`` and ``"id"`` (other fields are ignored, so
``eval/questions.jsonl`` can be fed as it is); blank lines are skipped. Every line is checked before
the first question is answered: a bad one is a one-line :class:`~caucasus_qa.errors.InputError`
naming its line, and nothing is printed. Answers come out as JSON lines, ``Answer.to_dict()`` with
the line's ``"id"`` first when it gave one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .errors import InputError

if TYPE_CHECKING:
    from .assistant import Assistant


@dataclass(frozen=True)
class BatchItem:
    line: int  # 1-based line number in the file
    question: str
    top_k: int | None = None
    docs: tuple[str, ...] | None = None
    id: str | int | None = None


def read_lines(source: str, stdin: IO[str] | None = None) -> list[str]:
    """The lines of ``source`` (a path, or ``-`` for standard input)."""
    if source == "-":
        return (stdin or sys.stdin).read().splitlines()
    path = Path(source)
    if not path.is_file():
        raise InputError(f"{source}: no such file" if not path.exists() else f"{source}: not a file")
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{source}: not UTF-8 text") from None


def _top_k(value: Any, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
        raise InputError(f"top_k must be an integer from 1 to {limit}, got {value!r}")
    return value


def _question(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise InputError(f"question must be text, got {type(value).__name__}")
    text = " ".join(value.split())
    if not text:
        raise InputError("question is empty")
    if len(text) > limit:
        raise InputError(f"question has {len(text)} characters, more than the limit of {limit}")
    return text


def parse_line(number: int, raw: str, max_chars: int, max_top_k: int, known: set[str]) -> BatchItem:
    """One non-blank line as a :class:`BatchItem`; raises ``InputError`` without the line number."""
    text = raw.strip()
    if not text.startswith("{"):
        return BatchItem(number, _question(text, max_chars))
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"not valid JSON ({err.msg} at column {err.colno})") from None
    if not isinstance(obj, dict):
        raise InputError("a JSON line must be an object with a 'question' field")
    if "question" not in obj:
        raise InputError("no 'question' field")
    item_id = obj.get("id")
    if item_id is not None and (isinstance(item_id, bool) or not isinstance(item_id, str | int)):
        raise InputError(f"id must be text or an integer, got {type(item_id).__name__}")
    top_k = None if obj.get("top_k") is None else _top_k(obj["top_k"], max_top_k)
    docs = obj.get("docs")
    if docs is not None:
        if isinstance(docs, str):
            docs = [docs]
        if not isinstance(docs, list) or not all(isinstance(d, str) and d.strip() for d in docs):
            raise InputError("docs must be a list of document ids")
        unknown = [d for d in docs if known and d.removesuffix(".txt") not in known]
        if unknown:
            raise InputError(f"unknown document id {unknown[0]!r}; see `caucasus-qa docs`")
    return BatchItem(
        number, _question(obj["question"], max_chars), top_k, tuple(docs) if docs else None, item_id
    )


def parse_batch(
    lines: Sequence[str], source: str, max_chars: int, max_top_k: int, known: Iterable[str] = ()
) -> list[BatchItem]:
    """Every question of the batch, checked; the first bad line raises ``InputError`` naming it.

    ``known``: the indexed document ids (none: ids are not checked, as ``Assistant.ask`` does)."""
    where = "stdin" if source == "-" else source
    ids = set(known)
    items = []
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            items.append(parse_line(number, raw, max_chars, max_top_k, ids))
        except InputError as err:
            raise InputError(f"{where}, line {number}: {err}") from None
    if not items:
        raise InputError(f"{where}: no questions (one a line, as text or JSON objects)")
    return items


def run_batch(
    qa: Assistant,
    source: str,
    top_k: int | None = None,
    docs: Sequence[str] | None = None,
    min_score: float | None = None,
    llm: bool = False,
    stdin: IO[str] | None = None,
    out: IO[str] | None = None,
) -> int:
    """Check the whole batch, then answer it, one JSON line per question on ``out`` (stdout)."""
    out = out or sys.stdout
    s = qa.settings
    known = {d.record.doc_id for d in qa.documents()}
    if top_k is not None:
        try:
            _top_k(top_k, s.retrieval.max_top_k)
        except InputError as err:
            raise InputError(f"-k/--top-k: {err}") from None
    items = parse_batch(
        read_lines(source, stdin), source, s.retrieval.max_question_chars, s.retrieval.max_top_k, known
    )
    for item in items:
        ans = qa.ask(
            item.question,
            top_k=item.top_k if item.top_k is not None else top_k,
            docs=list(item.docs) if item.docs else docs,
            min_score=min_score,
            llm=llm,
        )
        row = ({"id": item.id} if item.id is not None else {}) | ans.to_dict()
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
    return 0
