"""Command line: the verbs of the Python API, plus ``chat``, ``ask --batch`` and ``config``.

Heavy libraries are imported inside the commands that use them: ``docs`` needs neither torch nor
Chroma, and only ``serve`` imports Gradio.

Run as the process's own command (``caucasus-qa ask``, ``python -m caucasus_qa.cli docs``), the
one-shot commands keep Python's cyclic garbage collector off: their start-up creates a few million
long-lived objects (torch, transformers, LlamaIndex, Chroma) that the collector would otherwise scan
again each time the heap grows by a quarter, and once more at interpreter exit: a fifth of the CPU
time of a cold ``ask``, to collect next to nothing (peak memory grows by ~2%) in a process that ends
a moment later. See :func:`main`.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import CaucasusQAError


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus-dir", type=Path, help="directory of documents (default: corpus)")
    p.add_argument("--store-dir", type=Path, help="where the index lives (default: .caucasus_qa)")
    p.add_argument("--chroma-url", help="use a Chroma server, e.g. http://127.0.0.1:8000")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="caucasus-qa", description=__doc__.splitlines()[0] if __doc__ else None
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index the corpus (incremental) and any extra files")
    _common(p)
    p.add_argument("paths", nargs="*", type=Path, help="extra files or directories to index")
    p.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")

    p = sub.add_parser("ask", help="answer a question with sourced passages")
    _common(p)
    p.add_argument("question", nargs="*", help="the question")
    p.add_argument(
        "--batch",
        metavar="FILE",
        help="answer every question of FILE ('-': stdin; one a line, text or JSONL) as JSON lines",
    )
    p.add_argument("-k", "--top-k", type=int, default=None, help="number of passages (default 5)")
    p.add_argument("--doc", action="append", dest="docs", help="restrict to a document id (repeatable)")
    p.add_argument("--min-score", type=float, default=None, help="similarity floor for passages")
    p.add_argument(
        "--llm",
        action="store_true",
        help="write the answer with the configured LLM (CAUCASUS_QA_LLM__URL, CAUCASUS_QA_LLM__MODEL)",
    )
    p.add_argument("--json", action="store_true", help="print the answer as JSON")

    p = sub.add_parser("chat", help="a conversation in the terminal (follow-ups are rewritten)")
    _common(p)
    p.add_argument("-k", "--top-k", type=int, default=None, help="number of passages (default 5)")
    p.add_argument("--doc", action="append", dest="docs", help="restrict to a document id (repeatable)")

    p = sub.add_parser("config", help="the effective settings and where each one came from")
    _common(p)
    p.add_argument("--json", action="store_true", help="print the settings as JSON")

    p = sub.add_parser("docs", help="list indexed documents with metadata and chunk counts")
    _common(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("remove", help="remove a document from the index")
    _common(p)
    p.add_argument("doc_id")

    p = sub.add_parser("eval", help="score retrieval and answers on the gold questions, against baselines")
    _common(p)
    p.add_argument("files", nargs="*", type=Path, help="questions/conversations files (default: eval/)")
    p.add_argument("--split", choices=["dev", "test"], help="only this split")
    p.add_argument("-k", "--top-k", type=int, default=10, help="passages per question (default 10)")
    p.add_argument("--no-baselines", action="store_true", help="skip the naive and BM25 baselines")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--report", type=Path, metavar="DIR", help="write report.md and PNG charts to DIR")
    p.add_argument(
        "--train-cv",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="add the training split's cross-validated answer metrics (default: with --report)",
    )

    p = sub.add_parser("train", help="fit the sentence scorer and abstention judge on the training split")
    _common(p)
    p.add_argument("--file", type=Path, help="training questions (default: eval/train.jsonl)")
    p.add_argument("--out", type=Path, help="models file to write (default: the package's scorer.json)")
    p.add_argument(
        "--max-false-abstention",
        type=float,
        help="judge threshold target (default: answer.max_false_abstention)",
    )
    p.add_argument("-C", type=float, default=1.0, dest="c", help="inverse regularisation strength")
    p.add_argument("--check", action="store_true", help="exit 1 when the fitted file differs from --out")
    p.add_argument("--json", action="store_true", help="print the fitted weights as JSON")

    p = sub.add_parser("serve", help="open the chat UI")
    _common(p)
    p.add_argument("--host", default=None, help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 7860)")
    p.add_argument("--auth", metavar="USER:PASSWORD", help="require this login (needed off loopback)")
    p.add_argument("--no-auth", action="store_true", help="allow a non-loopback --host without a login")
    return parser


def _flag_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The settings the common flags set (those given on the command line only), by dotted name.

    The flags of one call (``ask -k``, ``--min-score``, ``serve --host``, ``--port``) are arguments
    of that call and win over the settings there."""
    given: dict[str, Any] = {"store.corpus_dir": args.corpus_dir, "store.store_dir": args.store_dir}
    given["store.chroma_url"] = getattr(args, "chroma_url", None) or None
    return {k: v for k, v in given.items() if v is not None}


def _assistant(args: argparse.Namespace) -> Any:
    from .assistant import Assistant
    from .settings import Settings
    from .settings_report import effective_settings

    # the settings `config` reports: defaults, the environment, then the flags (a bad value: one line)
    settings = effective_settings(_flag_overrides(args), Settings)
    assert isinstance(settings, Settings)
    return Assistant(settings=settings)


def _print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def cmd_ingest(args: argparse.Namespace) -> int:
    report = _assistant(args).ingest(args.paths, rebuild=args.rebuild, progress=not args.no_progress)
    if args.json:
        _print_json(report.to_dict())
        return 0
    print(
        f"documents: {report.added_docs} added, {report.updated_docs} updated, "
        f"{report.unchanged_docs} unchanged, {report.removed_docs} removed"
    )
    print(
        f"chunks: {report.added_chunks} added, {report.removed_chunks} removed, "
        f"{report.unchanged_chunks} unchanged, {report.embedded_chunks} embedded in {report.seconds:.2f}s"
    )
    for line in report.skipped:  # files of a type it cannot read, one line each
        print(line)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from .errors import QuestionError

    if args.batch is not None:
        if args.question:
            raise QuestionError("ask: give a question or --batch FILE, not both")
        from .cli_batch import run_batch

        qa = _assistant(args)
        return run_batch(qa, args.batch, args.top_k, args.docs, args.min_score, args.llm)
    if not args.question:
        raise QuestionError("ask: no question given (or --batch FILE for many)")
    qa = _assistant(args)
    ans = qa.ask(
        " ".join(args.question), top_k=args.top_k, docs=args.docs, min_score=args.min_score, llm=args.llm
    )
    if args.json:
        _print_json(ans.to_dict())
        return 0
    from .present import format_answer_text

    print(format_answer_text(ans))
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    from .cli_chat import run_chat

    return run_chat(_assistant(args), args.top_k, args.docs)


def cmd_config(args: argparse.Namespace) -> int:
    from .settings_report import print_settings

    return print_settings(_flag_overrides(args), as_json=args.json)


def cmd_docs(args: argparse.Namespace) -> int:
    qa = _assistant(args)
    docs = [d.to_dict() for d in qa.documents()]
    if args.json:
        _print_json(docs)
        return 0
    if not docs:
        print("no documents indexed yet; run `caucasus-qa ingest`")
    for d in docs:
        authors = ", ".join(d["authors"]) or "unknown author"
        print(f"{d['doc_id']}  {d['title']}")
        print(f"    {authors}; {d['venue'] or '-'}; {d['date'] or 'n.d.'}; {d['kind'] or '-'}")
        print(f"    {d['chunks']} chunks, {d['footnotes_resolved']} footnote markers resolved")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    report = _assistant(args).remove(args.doc_id)
    print(f"removed {args.doc_id}: {report.removed_chunks} chunks")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from .ui.app import serve

    return serve(_assistant(args), host=args.host, port=args.port, auth=args.auth, no_auth=args.no_auth)


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation.report import text_report

    result = _assistant(args).evaluate(
        files=args.files,
        split=args.split,
        top_k=args.top_k,
        baselines=not args.no_baselines,
        progress=None if args.json else (lambda m: print(m, file=sys.stderr)),
        train_cv=args.train_cv,
        report=args.report,
        wrote=lambda path: print(f"wrote {path}", file=sys.stderr),
    )
    if args.json:
        _print_json(result)
    else:
        print(text_report(result))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .errors import InputError
    from .evaluation.questions import DEFAULT_EVAL_DIR, load_questions
    from .evaluation.train import collect, fit_models, summary
    from .scorer import DEFAULT_PATH

    path = args.file or DEFAULT_EVAL_DIR / "train.jsonl"
    questions = [q for q in load_questions(path) if q.split == "train"]
    if not questions:
        raise InputError(f"{path}: no questions of the train split")
    qa = _assistant(args)
    target = qa.settings.answer.max_false_abstention
    if args.max_false_abstention is not None:
        target = args.max_false_abstention
    if not 0.0 <= target < 1.0:
        raise InputError("--max-false-abstention: must be in [0, 1)")
    say = None if args.json else (lambda m: print(m, file=sys.stderr))
    qa.use_models(None)  # the training set is drafted with the hand-weighted score
    if say:
        say(f"drafting {len(questions)} training questions")
    examples = collect(qa, questions, say=say)
    models = fit_models(examples, target, args.c, off_topic=qa.settings.answer.off_topic_quantile)
    out = args.out or DEFAULT_PATH
    text = models.dumps()
    if args.check:
        same = out.exists() and out.read_text(encoding="utf-8") == text
        print(f"{out}: {'reproduced exactly' if same else 'DIFFERS from the fitted models'}")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    if args.json:
        _print_json(summary(models))
    else:
        print(f"wrote {out}")
        for name, weights in (("sentence", models.sentence), ("judge", models.judge)):
            print(
                f"{name}: "
                + ", ".join(f"{f} {w:+.2f}" for f, w in zip(weights.features, weights.coef, strict=True))
            )
        print(f"judge threshold {models.threshold:.4f}; {models.meta}")
    return 0


COMMANDS = {
    "ingest": cmd_ingest,
    "ask": cmd_ask,
    "chat": cmd_chat,
    "config": cmd_config,
    "docs": cmd_docs,
    "remove": cmd_remove,
    "serve": cmd_serve,
    "eval": cmd_eval,
    "train": cmd_train,
}


# Commands that do one bounded piece of work and end: run standalone, they skip cyclic collection.
ONE_SHOT = frozenset({"ask", "docs"})


def _warn_renamed() -> None:
    """One line on stderr for each environment variable of the flat settings of earlier versions."""
    import os

    from .settings import renamed_in_env

    for old, new in renamed_in_env(os.environ):
        print(f"caucasus-qa: warning: {old} is no longer read; set {new}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. ``argv=None`` (the console script, ``python -m``) means this process exists to
    run it: a one-shot command then runs with the cyclic collector off and, when it is done, moves
    everything it built to the collector's permanent generation (``gc.freeze``), so neither its
    start-up nor the interpreter's exit scans those objects. Called with an explicit ``argv`` (from
    Python, the tests), the collector is left exactly as it is."""
    args = build_parser().parse_args(argv)
    _warn_renamed()
    standalone = argv is None and args.command in ONE_SHOT and not getattr(args, "batch", None)
    collecting = gc.isenabled()
    if standalone:
        gc.disable()
    try:
        return COMMANDS[args.command](args)
    except CaucasusQAError as err:
        print(f"caucasus-qa: error: {' '.join(str(err).split())}", file=sys.stderr)  # one line, always
        return err.exit_code
    except KeyboardInterrupt:
        print("caucasus-qa: interrupted", file=sys.stderr)
        return 130
    finally:
        if standalone:
            gc.freeze()  # the process ends now: never scan what it built (the exit collection included)
            if collecting:
                gc.enable()


if __name__ == "__main__":
    raise SystemExit(main())
