"""``caucasus-qa chat``: questions from stdin, follow-ups rewritten, /sources, /json, /reset, /help, /quit."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from caucasus_qa.cli import main
from caucasus_qa.cli_chat import HELP
from caucasus_qa.present import format_answer_text

from .conftest import CORPUS

FIRST = "What does Souleimanov say about Turkey?"
FOLLOW_UP = "Who does he cite for that?"


def chat(monkeypatch: pytest.MonkeyPatch, capsys: Any, stdin: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))  # piped: StringIO is no terminal, so no prompt
    code = main(["chat", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def json_block(text: str) -> dict[str, Any]:
    """The JSON object printed by /json: from a line "{" to the next line "}"."""
    lines = text.splitlines()
    start = lines.index("{")
    end = lines.index("}", start)
    return dict(json.loads("\n".join(lines[start : end + 1])))


@pytest.mark.integration
def test_chat_answers_follow_ups_and_runs_its_commands(qa: Any, monkeypatch, capsys) -> None:
    args = ["-k", "2", "--store-dir", str(qa.settings.store.store_dir), "--corpus-dir", str(CORPUS)]
    stdin = f"{FIRST}\n\n/bogus\n{FOLLOW_UP}\n/json\n/sources\n/help\n/reset\n/sources\n/quit\nNever asked?\n"
    code, out, err = chat(monkeypatch, capsys, stdin, *args)
    assert code == 0
    assert "you>" not in out  # no prompt when stdin is piped
    assert err.strip() == "caucasus-qa: unknown command /bogus; /help lists them"

    # each turn is printed as `caucasus-qa ask` prints it, the follow-up answered through Assistant.chat
    first = qa.chat([{"role": "user", "content": FIRST}], top_k=2)
    second = qa.chat(
        [
            {"role": "user", "content": FIRST},
            {"role": "assistant", "content": first.answer},
            {"role": "user", "content": FOLLOW_UP},
        ],
        top_k=2,
    )
    assert "Souleimanov" in second.query and second.question == FOLLOW_UP  # rewritten
    expected_turns = format_answer_text(first) + "\n\n" + format_answer_text(second) + "\n\n"
    assert out.startswith(expected_turns)
    rest = out[len(expected_turns) :]

    # /json: the last answer's Answer.to_dict()
    shown = json_block(rest)
    want = json.loads(json.dumps(second.to_dict()))
    del shown["timings"], want["timings"]
    assert shown == want

    # /sources: every source in full (the whole passage, ids, numbered references)
    sources = rest[rest.index("\n}\n") + 3 : rest.index(HELP)]
    for s in second.sources:
        assert f"[{s.rank}] {s.citation}" in sources
        assert s.chunk_id in sources and s.doc_id in sources
        assert " ".join(s.text.split()) in " ".join(sources.replace("    ", " ").split())
    assert "note " in sources  # footnote references with their numbers

    # /help, then /reset forgets the conversation: /sources has nothing to show; /quit ends the chat
    assert rest.rstrip().endswith(f"{HELP}\n(new conversation)\n(no answer yet: ask a question first)")
    assert "Never asked" not in out


@pytest.mark.integration
def test_chat_goes_on_after_a_rejected_question_and_ends_at_eof(qa: Any, monkeypatch, capsys) -> None:
    args = ["--store-dir", str(qa.settings.store.store_dir), "--corpus-dir", str(CORPUS)]
    too_long = "why " * 1000
    code, out, err = chat(monkeypatch, capsys, f"{too_long}\n{FIRST}\n", *args)  # no /quit: EOF ends it
    assert code == 0
    assert err.startswith("caucasus-qa: error: question:") and len(err.strip().splitlines()) == 1
    assert out == format_answer_text(qa.chat([{"role": "user", "content": FIRST}])) + "\n\n"


@pytest.mark.parametrize(
    ("argv", "word"), [(["-k", "0"], "top_k"), (["-k", "51"], "top_k")]
)  # fmt: skip
def test_chat_rejects_bad_options_before_reading_anything(argv, word, tmp_path, monkeypatch, capsys) -> None:
    code, out, err = chat(monkeypatch, capsys, f"{FIRST}\n", *argv, "--store-dir", str(tmp_path / "s"))
    assert code == 2 and out == "" and word in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "s" / "manifest.json").exists()


@pytest.mark.integration
def test_chat_rejects_an_unknown_document(qa: Any, monkeypatch, capsys) -> None:
    args = ["--doc", "nope", "--store-dir", str(qa.settings.store.store_dir), "--corpus-dir", str(CORPUS)]
    code, out, err = chat(monkeypatch, capsys, f"{FIRST}\n", *args)
    assert code == 2 and out == "" and "unknown document id 'nope'" in err
