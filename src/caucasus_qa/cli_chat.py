"""``caucasus-qa chat``: a conversation in the terminal, through ``Assistant.chat``.

Questions come from standard input, one a line (with a prompt when it is a terminal, none when it is
piped). The conversation is kept, so a follow-up ("Who does he cite for that?") is rewritten into a
standalone query, as in the chat UI. Each answer is printed as ``caucasus-qa ask`` prints it. Lines
starting with ``/`` are commands (see :data:`HELP`); end of input ends the chat.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from .errors import InputError
from .present import format_answer_text

if TYPE_CHECKING:
    from .assistant import Assistant
    from .schema import Answer

PROMPT = "you> "
HELP = """\
Ask a question, then follow it up ("Who does he cite for that?"); commands:
  /sources  the full sources of the last answer
  /json     the last answer as JSON (as `caucasus-qa ask --json` prints it)
  /reset    start a new conversation
  /help     this text
  /quit     leave (so does end of input, Ctrl-D)"""
WIDTH = 100


@dataclass
class Conversation:
    """The turns so far, in the form ``Assistant.chat`` takes, and the last answer."""

    messages: list[dict[str, str]] = field(default_factory=list)
    last: Answer | None = None

    def ask(self, qa: Assistant, question: str, top_k: int | None, docs: Sequence[str] | None) -> Answer:
        msgs = [*self.messages, {"role": "user", "content": question}]
        ans = qa.chat(msgs, top_k=top_k, docs=list(docs) if docs else None)
        self.messages = [*msgs, {"role": "assistant", "content": ans.answer}]
        self.last = ans
        return ans


def format_sources_full(ans: Answer, width: int = WIDTH) -> str:
    """Every source of ``ans`` with all it carries: citation, document and chunk ids, authors, venue,
    date, pages, score, the whole passage and its numbered footnote references."""
    if not ans.sources:
        return "(the last answer has no sources)"
    lines: list[str] = []
    for s in ans.sources:
        lines.append(f"[{s.rank}] {s.citation}")
        facts = [
            f"document {s.doc_id}",
            f"chunk {s.chunk_id}" if s.chunk_id else "",
            f"score {s.score:.4f}",
            f"section {s.section}" if s.section else "",
            f"pages {s.pages[0]}–{s.pages[-1]}" if s.pages else "",
        ]
        lines.append(textwrap.fill("; ".join(f for f in facts if f), width - 4, initial_indent="    ",
                                   subsequent_indent="    "))  # fmt: skip
        record = [
            s.title,
            ", ".join(s.authors) or "unknown author",
            s.venue or "",
            s.date or "",
        ]
        lines.append(textwrap.fill("; ".join(r for r in record if r), width - 4, initial_indent="    ",
                                   subsequent_indent="    "))  # fmt: skip
        lines.append("")
        lines.append(textwrap.indent(textwrap.fill(s.text, width - 4), "    "))
        notes = s.footnotes if len(s.footnotes) == len(s.references) else [None] * len(s.references)
        for n, ref in zip(notes, s.references, strict=True):
            label = f"note {n}: " if n is not None else ""
            lines.append(textwrap.indent(textwrap.fill(f"↳ {label}{ref}", width - 4), "    "))
        lines.append("")
    return "\n".join(lines).rstrip()


def read_question(stdin: IO[str], tty: bool) -> str | None:
    """The next line (``None`` at end of input); a prompt first on a terminal."""
    if tty:
        try:
            return input(PROMPT)  # line editing and history where readline is available
        except EOFError:
            print()
            return None
    line = stdin.readline()
    return line if line else None


def command(line: str, convo: Conversation, out: IO[str]) -> bool:
    """Run the ``/command`` in ``line``; False when it ends the chat."""
    name = line.split()[0].lower()
    if name in ("/quit", "/exit", "/q"):
        return False
    if name == "/help":
        print(HELP, file=out)
    elif name == "/reset":
        convo.messages, convo.last = [], None
        print("(new conversation)", file=out)
    elif name in ("/sources", "/json"):
        if convo.last is None:
            print("(no answer yet: ask a question first)", file=out)
        elif name == "/sources":
            print(format_sources_full(convo.last), file=out)
        else:
            print(json.dumps(convo.last.to_dict(), ensure_ascii=False, indent=2), file=out)
    else:
        print(f"caucasus-qa: unknown command {name}; /help lists them", file=sys.stderr)
    return True


def check_options(qa: Assistant, top_k: int | None, docs: Sequence[str] | None) -> None:
    """Bad ``-k`` or ``--doc``: an ``InputError`` before the first question, not at every turn."""
    s = qa.settings
    if top_k is not None and (isinstance(top_k, bool) or not 1 <= top_k <= s.retrieval.max_top_k):
        raise InputError(f"top_k: must be an integer from 1 to {s.retrieval.max_top_k}, got {top_k!r}")
    known = {d.record.doc_id for d in qa.documents()}
    unknown = [d for d in docs or () if known and d.removesuffix(".txt") not in known]
    if unknown:
        raise InputError(f"doc: unknown document id {unknown[0]!r}; see `caucasus-qa docs`")


def run_chat(
    qa: Assistant,
    top_k: int | None = None,
    docs: Sequence[str] | None = None,
    stdin: IO[str] | None = None,
    out: IO[str] | None = None,
) -> int:
    """The chat loop; 0 when the input ends or ``/quit`` is typed. A question the assistant
    rejects (empty, too long) gets one line on stderr and the chat goes on."""
    stdin, out = stdin or sys.stdin, out or sys.stdout
    check_options(qa, top_k, docs)
    tty = stdin.isatty()
    if tty:
        print("caucasus-qa chat: ask about South Caucasus security; /help for commands, /quit to leave.")
    convo = Conversation()
    while (line := read_question(stdin, tty)) is not None:
        text = line.strip()
        if not text:
            continue
        if text.startswith("/"):
            if not command(text, convo, out):
                break
            continue
        try:
            ans = convo.ask(qa, text, top_k, docs)
        except InputError as err:
            print(f"caucasus-qa: error: {' '.join(str(err).split())}", file=sys.stderr)
            continue
        print(format_answer_text(ans), file=out)
        print(file=out)
        out.flush()
    return 0
