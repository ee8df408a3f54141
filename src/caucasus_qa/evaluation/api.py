"""``Assistant.evaluate``: what ``caucasus-qa eval`` runs, callable from Python.

Loads the gold items (``eval/questions.jsonl`` and ``eval/conversations.jsonl`` by default), keeps one
split when asked, runs :func:`~caucasus_qa.evaluation.runner.run_eval`, adds the training split's
cross-validated answers (``train_cv``; by default only when a report is written) and writes the report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, get_args

from ..errors import InputError
from .questions import DEFAULT_EVAL_DIR, Split

if TYPE_CHECKING:
    from ..assistant import Assistant

DEFAULT_FILES = (DEFAULT_EVAL_DIR / "questions.jsonl", DEFAULT_EVAL_DIR / "conversations.jsonl")
TRAIN_FILE = DEFAULT_EVAL_DIR / "train.jsonl"


def eval_command(split: str | None, top_k: int, report: str | Path) -> str:
    """The command line that reproduces a report (written into ``report.md``)."""
    where = f" --split {split}" if split else ""
    return f"caucasus-qa eval{where} --top-k {top_k} --report {report}"


def evaluate(
    qa: Assistant,
    files: Sequence[str | Path] | None = None,
    split: str | None = None,
    top_k: int = 10,
    baselines: bool = True,
    progress: Callable[[str], None] | None = None,
    train_cv: bool | None = None,
    report: str | Path | None = None,
    wrote: Callable[[Path], None] | None = None,
) -> dict[str, Any]:
    """The evaluation result (the dict ``caucasus-qa eval --json`` prints).

    ``files``: questions and conversations files (default: the two in ``eval/``); ``split``: only
    the items of that split; ``progress``: called with a line per stage; ``train_cv``: add the
    ``train-cv`` column (default: when ``report`` is given and ``eval/train.jsonl`` exists);
    ``report``: a folder to write ``report.md`` and the charts to, each file passed to ``wrote``.
    """
    from .report import write_report
    from .runner import load_items, run_eval

    if split is not None and split not in get_args(Split):
        raise InputError(f"split: expected one of {', '.join(get_args(Split))}, got {split!r}")
    chosen = list(files) if files else [p for p in DEFAULT_FILES if p.exists()]
    questions, conversations = load_items(chosen)
    if split:
        questions = [q for q in questions if q.split == split]
        conversations = [c for c in conversations if c.split == split]
    result = run_eval(qa, questions, conversations, top_k, baselines, progress)
    if (report is not None if train_cv is None else train_cv) and TRAIN_FILE.exists():
        from .train import train_cv as cross_validated

        if progress:
            progress("train-cv: the training split, each question answered by models fitted without it")
        result["answers_by_split"]["train-cv"] = cross_validated(qa, TRAIN_FILE, top_k)
    if report is not None:
        for path in write_report(result, report, command=eval_command(split, top_k, report)):
            if wrote:
                wrote(path)
    return result
