"""Schema, loader and validator for the gold evaluation set.

``eval/questions.jsonl`` holds one :class:`Question` per line and
``eval/conversations.jsonl`` one two-turn :class:`Conversation` per line.
Every evidence quote must occur in the *cleaned* text of its document
(see :mod:`caucasus_qa.evaluation.evidence`, re-exported here).

Run ``python -m caucasus_qa.evaluation.questions [FILE ...]`` to validate the
files and print the number of questions per type and split.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator, model_validator

from caucasus_qa.errors import InputError

from .evidence import DEFAULT_CORPUS_DIR, cleaned_texts, full_texts, normalize_for_match, validate_evidence

__all__ = [
    "DEFAULT_CORPUS_DIR",
    "DEFAULT_EVAL_DIR",
    "MIN_COUNTS",
    "QUESTION_TYPES",
    "Conversation",
    "EvalSetError",
    "Gold",
    "Question",
    "QuestionType",
    "Split",
    "cleaned_texts",
    "count_table",
    "full_texts",
    "load_conversations",
    "load_questions",
    "main",
    "normalize_for_match",
    "validate_evidence",
]

QUESTION_TYPES: tuple[str, ...] = (
    "factoid",
    "why",
    "list",
    "citation",
    "metadata",
    "multi",
    "unanswerable",
)
QuestionType = Literal["factoid", "why", "list", "citation", "metadata", "multi", "unanswerable"]
Split = Literal["train", "dev", "test"]

#: minimum number of questions per type over the whole file
MIN_COUNTS: dict[str, int] = {
    "factoid": 32,
    "why": 12,
    "list": 9,
    "citation": 14,
    "metadata": 8,
    "multi": 14,
    "unanswerable": 21,
}

MIN_QUOTE_CHARS = 10  # author and date lines are short; body quotes are 20+
MAX_QUOTE_CHARS = 300

DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[3] / "eval"


class EvalSetError(InputError):
    """A line of an evaluation file that does not fit the schema; the message names the id and field."""


def _corpus_dir(info: ValidationInfo) -> Path:
    ctx = info.context if isinstance(info.context, dict) else {}
    return Path(ctx.get("corpus_dir") or DEFAULT_CORPUS_DIR)


class Gold(BaseModel):
    """Fields shared by a question and the follow-up turn of a conversation."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str
    doc: str | list[str]
    evidence: list[str]
    answer: str
    keywords: list[str]
    split: Split

    @field_validator("id")
    @classmethod
    def _id_not_empty(cls, v: str) -> str:
        if not v:
            raise ValueError("id must not be empty")
        return v

    @field_validator("doc")
    @classmethod
    def _docs_exist(cls, v: str | list[str], info: ValidationInfo) -> str | list[str]:
        names = [v] if isinstance(v, str) else v
        corpus = _corpus_dir(info)
        for name in names:
            if not name or "/" in name or "\\" in name:
                raise ValueError(f"doc {name!r} must be a bare file name")
            if not (corpus / name).is_file():
                raise ValueError(f"doc {name!r} is not a file in {corpus}")
        if isinstance(v, list) and len(set(v)) != len(v):
            raise ValueError("doc lists a file twice")
        return v

    @field_validator("evidence")
    @classmethod
    def _quotes_sized(cls, v: list[str]) -> list[str]:
        for i, quote in enumerate(v):
            n = len(quote.strip())
            if not MIN_QUOTE_CHARS <= n <= MAX_QUOTE_CHARS:
                raise ValueError(
                    f"evidence[{i}] has {n} characters; quotes must have {MIN_QUOTE_CHARS}-{MAX_QUOTE_CHARS}"
                )
        return [q.strip() for q in v]

    @field_validator("keywords")
    @classmethod
    def _keywords_clean(cls, v: list[str]) -> list[str]:
        out = [k.strip() for k in v]
        if any(not k for k in out):
            raise ValueError("keywords must not contain empty strings")
        if len(out) > 3:
            raise ValueError("at most 3 keywords")
        return out

    @property
    def docs(self) -> list[str]:
        return [self.doc] if isinstance(self.doc, str) else list(self.doc)

    def _check_answerable(self) -> None:
        if not self.evidence:
            raise ValueError("evidence: must not be empty for an answerable item")
        if len(self.evidence) > 3:
            raise ValueError("evidence: holds 1 to 3 quotes")
        if not self.keywords:
            raise ValueError("keywords: must not be empty for an answerable item")
        if not self.answer:
            raise ValueError("answer: must not be empty for an answerable item")
        if not self.docs:
            raise ValueError("doc: must name at least one file for an answerable item")
        norm_answer = normalize_for_match(self.answer)
        # keywords are what a correct answer must contain, so the gold answer must contain them
        for k in self.keywords:
            if normalize_for_match(k) not in norm_answer:
                raise ValueError(f"keywords: {k!r} does not occur in the gold answer")


class Question(Gold):
    question: str
    type: QuestionType
    #: what an unanswerable near miss asks for and the articles never give (training questions only)
    asks: Literal["person", "org", "place", "date", "number", "model", "quote", "other"] | None = None
    #: "far": worded away from the article's own words (training questions mark this)
    wording: Literal["close", "far"] | None = None

    @field_validator("question")
    @classmethod
    def _question_not_empty(cls, v: str) -> str:
        if not v:
            raise ValueError("question must not be empty")
        return v

    @model_validator(mode="after")
    def _by_type(self) -> Question:
        if self.type == "unanswerable":
            if self.evidence:
                raise ValueError("evidence: must be [] for an unanswerable question")
            if self.keywords:
                raise ValueError("keywords: must be [] for an unanswerable question")
            if self.answer:
                raise ValueError('answer: must be "" for an unanswerable question')
            return self
        self._check_answerable()
        if self.type == "multi" and len(self.evidence) < 2:
            raise ValueError("evidence: a multi question needs one quote per passage (at least 2)")
        if self.type == "citation" and len(self.evidence) < 2:
            raise ValueError("evidence: a citation question needs the claim and the reference text")
        if self.type != "multi" and len(self.docs) != 1:
            raise ValueError(f"doc: a {self.type} question names exactly one file")
        return self

    @property
    def cross_document(self) -> bool:
        return len(self.docs) >= 2


class Conversation(Gold):
    """Two turns; ``doc``/``evidence``/``answer``/``keywords`` are the gold for the follow-up."""

    turns: list[str]
    standalone: str
    type: QuestionType | None = None  # what kind of question the follow-up is; never unanswerable

    @field_validator("type")
    @classmethod
    def _answerable_type(cls, v: str | None) -> str | None:
        if v == "unanswerable":
            raise ValueError("a conversation follow-up must be answerable")
        return v

    @field_validator("turns")
    @classmethod
    def _two_turns(cls, v: list[str]) -> list[str]:
        v = [t.strip() for t in v]
        if len(v) != 2 or not all(v):
            raise ValueError("turns must hold exactly two non-empty questions")
        return v

    @field_validator("standalone")
    @classmethod
    def _standalone_not_empty(cls, v: str) -> str:
        if not v:
            raise ValueError("standalone must not be empty")
        return v

    @model_validator(mode="after")
    def _answerable(self) -> Conversation:
        self._check_answerable()
        return self


# --------------------------------------------------------------------------- loading


def _format_validation_error(where: str, ident: str, err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors():
        field = ".".join(str(p) for p in e["loc"])
        msg = e["msg"]
        if not field:  # a model-level check: its message starts with the field at fault
            m = re.match(r"(?:Value error, )?(\w+): (.*)", msg, re.DOTALL)
            field, msg = (m.group(1), m.group(2)) if m else ("(line)", msg)
        lines.append(f"{where} ({ident}): field '{field}': {msg}")
    return lines


def _load(path: str | Path, model: type[Gold], corpus_dir: str | Path | None) -> tuple[list[Any], list[str]]:
    path = Path(path)
    try:
        raw_lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise EvalSetError(f"{path}: cannot read: {exc}") from exc
    context = {"corpus_dir": Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS_DIR}
    items: list[Any] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(raw_lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{lineno}"
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            errors.append(f"{where}: invalid JSON: {exc.msg}")
            continue
        if not isinstance(data, dict):
            errors.append(f"{where}: expected a JSON object")
            continue
        ident = str(data.get("id") or "no id")
        try:
            item = model.model_validate(data, context=context)
        except ValidationError as exc:
            errors.extend(_format_validation_error(where, ident, exc))
            continue
        if item.id in seen:
            errors.append(f"{where} ({item.id}): field 'id': duplicate of line {seen[item.id]}")
            continue
        seen[item.id] = lineno
        items.append(item)
    return items, errors


def load_questions(path: str | Path, corpus_dir: str | Path | None = None) -> list[Question]:
    """Read and validate a questions file; raise :class:`EvalSetError` listing every bad line."""
    items, errors = _load(path, Question, corpus_dir)
    if errors:
        raise EvalSetError("\n".join(errors))
    return items


def load_conversations(path: str | Path, corpus_dir: str | Path | None = None) -> list[Conversation]:
    """Read and validate a conversations file; raise :class:`EvalSetError` listing every bad line."""
    items, errors = _load(path, Conversation, corpus_dir)
    if errors:
        raise EvalSetError("\n".join(errors))
    return items


# --------------------------------------------------------------------------- CLI


def count_table(questions: Iterable[Question]) -> str:
    counts: Counter[tuple[str, str]] = Counter((str(q.type), str(q.split)) for q in questions)
    splits = [s for s in ("train", "dev", "test") if any(k[1] == s for k in counts)]
    lines = [f"{'type':<14}" + "".join(f"{s:>6}" for s in splits) + f"{'all':>6}"]
    for t in QUESTION_TYPES:
        row = [counts[(t, s)] for s in splits]
        lines.append(f"{t:<14}" + "".join(f"{n:>6}" for n in row) + f"{sum(row):>6}")
    totals = [sum(v for (_, s), v in counts.items() if s == split) for split in splits]
    lines.append(f"{'total':<14}" + "".join(f"{n:>6}" for n in totals) + f"{sum(totals):>6}")
    return "\n".join(lines)


def _is_conversation_file(path: Path) -> bool:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                return "turns" in json.loads(line)
            except json.JSONDecodeError:
                return False
    return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    paths = [Path(a) for a in args] or [
        p
        for p in (
            DEFAULT_EVAL_DIR / "questions.jsonl",
            DEFAULT_EVAL_DIR / "train.jsonl",
            DEFAULT_EVAL_DIR / "conversations.jsonl",
        )
        if p.exists()
    ]
    texts = cleaned_texts()
    meta = full_texts()
    status = 0
    for path in paths:
        try:
            if _is_conversation_file(path):
                convs = load_conversations(path)
                errors = validate_evidence(convs, texts, meta)
                splits = Counter(c.split for c in convs)
                print(f"{path}: {len(convs)} conversations (dev {splits['dev']}, test {splits['test']})")
            else:
                qs = load_questions(path)
                errors = validate_evidence(qs, texts, meta)
                print(f"{path}: {len(qs)} questions")
                print(count_table(qs))
        except (EvalSetError, OSError) as exc:
            print(str(exc), file=sys.stderr)
            status = 1
            continue
        for e in errors:
            print(f"{path.name}: {e}", file=sys.stderr)
        if errors:
            print(
                f"{path}: {len(errors)} evidence quote(s) not found",
                file=sys.stderr,
            )
            status = 1
    return status


if __name__ == "__main__":
    raise SystemExit(main())
