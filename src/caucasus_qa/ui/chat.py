"""Chat handlers: per-session state in, chatbot messages, source cards and the export file out.

Session state is a plain dict ``{"answers": [Answer.to_dict(), ...]}`` held in a ``gr.State``, so two
browser tabs never share a conversation.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..assistant import Assistant
from .export import write_markdown
from .render import answer_html, conversation_sources_html, user_html, writing_html

EXAMPLES = (
    "How did the war in Ukraine change Iran's security posture in the South Caucasus?",
    "Why does Israel cooperate with Azerbaijan?",
    "What role does the Zangezur corridor play for Iran?",
)


def new_state() -> dict[str, Any]:
    return {"answers": []}


def history_messages(answers: Sequence[dict[str, Any]], question: str) -> list[dict[str, str]]:
    """The conversation in the plain form ``Assistant.chat`` takes, ending with ``question``."""
    msgs: list[dict[str, str]] = []
    for a in answers:
        msgs.append({"role": "user", "content": str(a.get("question", ""))})
        msgs.append({"role": "assistant", "content": str(a.get("answer", ""))})
    msgs.append({"role": "user", "content": question})
    return msgs


def chat_view(answers: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chatbot messages: assistant message ``2*i + 1`` is answer ``i``."""
    view: list[dict[str, Any]] = []
    for turn, a in enumerate(answers, start=1):
        view.append({"role": "user", "content": user_html(str(a.get("question", "")))})
        view.append({"role": "assistant", "content": answer_html(a, turn)})
    return view


def answer_for_message(answers: Sequence[dict[str, Any]], index: Any) -> dict[str, Any] | None:
    """The answer shown by chatbot message ``index`` (an int, or a tuple whose first item is it)."""
    i = index[0] if isinstance(index, list | tuple) else index
    if not isinstance(i, int) or i % 2 != 1 or not 0 <= i // 2 < len(answers):
        return None
    return answers[i // 2]


def ask_chat(
    qa: Assistant,
    answers: Sequence[dict[str, Any]],
    question: str,
    top_k: int,
    docs: Sequence[str] | None,
    mode: str,
) -> dict[str, Any]:
    """One turn through ``qa.chat``; ``mode="llm"`` synthesises with the configured endpoint."""
    docs_list = list(docs) if docs else None
    ans = qa.chat(history_messages(answers, question), top_k=int(top_k), docs=docs_list, llm=mode == "llm")
    return ans.to_dict()


def stream_turn(
    qa: Assistant,
    answers: Sequence[dict[str, Any]],
    question: str,
    top_k: int,
    docs: Sequence[str] | None,
    mode: str,
) -> Iterator[str | dict[str, Any]]:
    """One turn, streamed through ``qa.chat_stream`` in LLM mode: the answer text so far (``str``)
    as the model adds to it, then the final ``Answer.to_dict()``, which replaces that text (markers
    checked; the extractive answer when no valid citation is left). An abstention yields only the
    final answer, as does the extractive mode (through :func:`ask_chat`)."""
    if mode != "llm":
        yield ask_chat(qa, answers, question, top_k, docs, mode)
        return
    docs_list = list(docs) if docs else None
    msgs = history_messages(answers, question)
    text = ""
    for item in qa.chat_stream(msgs, top_k=int(top_k), docs=docs_list, llm=True):
        if isinstance(item, str):
            if text:  # one delta behind: a lone delta is the extractive answer of an abstention
                yield text
            text += item
        else:
            yield item.to_dict()


def writing_view(answers: Sequence[dict[str, Any]], question: str, text: str) -> list[dict[str, Any]]:
    """Chatbot messages while the next answer is being written: ``text`` is what the model wrote so far."""
    return [
        *chat_view(answers),
        {"role": "user", "content": user_html(" ".join(question.split()))},
        {"role": "assistant", "content": writing_html(text)},
    ]


def export_file(answers: Sequence[dict[str, Any]]) -> Path | None:
    if not answers:
        return None
    return write_markdown(list(answers), Path(tempfile.mkdtemp(prefix="caucasus-qa-export-")))


def render_all(answers: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    return chat_view(answers), conversation_sources_html(answers)
