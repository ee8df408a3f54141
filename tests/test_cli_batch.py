"""``caucasus-qa ask --batch FILE``: every line checked before any answer, JSON lines out, one process."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from caucasus_qa.cli import main
from caucasus_qa.cli_batch import parse_batch

from .conftest import CORPUS

DOC = "004_2e4681bc52934605"


def run(monkeypatch: pytest.MonkeyPatch, capsys: Any, stdin: str, *argv: str) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


BAD_LINES = [
    ('{"question": "Why?", "top_k": 0}', "top_k"),
    ('{"question": "Why?", "top_k": "3"}', "top_k"),
    ('{"question": "Why?"', "not valid JSON"),
    ('{"top_k": 3}', "no 'question' field"),
    ('{"question": "   "}', "empty"),
    ('{"question": 42}', "question must be text"),
    ('{"question": "Why?", "docs": [1]}', "docs"),
    ('{"question": "Why?", "id": [1]}', "id must be"),
    ("x" * 3000, "limit"),
]


@pytest.mark.parametrize(("bad", "word"), BAD_LINES)
def test_a_bad_line_exits_2_naming_its_line_before_any_answer(bad, word, tmp_path, monkeypatch, capsys):
    stdin = "Why does Iran see Azerbaijan as a threat?\n\n" + bad + "\nWho mediates?\n"
    code, out, err = run(
        monkeypatch, capsys, stdin, "ask", "--batch", "-", "--store-dir", str(tmp_path / "s")
    )
    assert code == 2 and out == ""  # nothing answered: the whole batch is checked first
    assert len(err.strip().splitlines()) == 1
    assert "stdin, line 3:" in err and word in err
    assert not (tmp_path / "s" / "manifest.json").exists()  # nor was anything built


def test_a_bad_line_in_a_file_names_the_file_and_line(tmp_path, capsys):
    batch = tmp_path / "questions.jsonl"
    batch.write_text(
        '{"question": "Why?", "id": "a"}\n{"question": "Why?", "top_k": 999}\n', encoding="utf-8"
    )
    code = main(["ask", "--batch", str(batch), "--store-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and f"{batch}, line 2: top_k must be an integer from 1 to 50, got 999" in err


@pytest.mark.parametrize(
    ("argv", "word"),
    [
        (["ask", "--batch", "-", "Why?"], "not both"),
        (["ask"], "no question given"),
        (["ask", "--batch", "/no/such/file.jsonl"], "no such file"),
        (["ask", "--batch", "-", "-k", "0"], "-k/--top-k"),
    ],
)
def test_batch_usage_errors_exit_2(argv, word, tmp_path, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, "Why?\n", *argv, "--store-dir", str(tmp_path / "s"))
    assert code == 2 and out == "" and word in err and len(err.strip().splitlines()) == 1


def test_an_empty_batch_is_an_error(tmp_path, monkeypatch, capsys):
    code, _, err = run(
        monkeypatch, capsys, "\n  \n", "ask", "--batch", "-", "--store-dir", str(tmp_path / "s")
    )
    assert code == 2 and "no questions" in err


def test_parse_batch_reads_text_and_json_lines_and_skips_blank_ones() -> None:
    lines = [
        "  Why does Iran see Azerbaijan as a threat?  ",
        "",
        '{"id": 7, "question": "Which drones?", "top_k": 2, "docs": ["x.txt"], "type": "factoid"}',
    ]
    items = parse_batch(lines, "-", max_chars=2000, max_top_k=50, known={"x"})
    assert [(i.line, i.question, i.top_k, i.docs, i.id) for i in items] == [
        (1, "Why does Iran see Azerbaijan as a threat?", None, None, None),
        (3, "Which drones?", 2, ("x.txt",), 7),
    ]


@pytest.mark.integration
def test_batch_answers_every_question_as_a_json_line(qa: Any, tmp_path: Path, monkeypatch, capsys) -> None:
    first = "Why does Iran see Azerbaijan as a threat?"
    second = {"id": "drones", "question": "Which drones did Israel sell?", "top_k": 2, "docs": [DOC]}
    third = {"question": "Who won the Tour de France in 2019?"}
    stdin = f"{first}\n\n{json.dumps(second)}\n{json.dumps(third)}\n"
    args = ["--store-dir", str(qa.settings.store.store_dir), "--corpus-dir", str(CORPUS)]
    code, out, _ = run(monkeypatch, capsys, stdin, "ask", "--batch", "-", "-k", "3", *args)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 3
    assert "id" not in rows[0] and rows[0]["question"] == first and len(rows[0]["sources"]) == 3  # -k 3
    assert next(iter(rows[1])) == "id" and rows[1]["id"] == "drones"
    assert len(rows[1]["sources"]) == 2 and {s["doc_id"] for s in rows[1]["sources"]} == {
        DOC
    }  # its own k, docs
    assert rows[2]["abstained"] and rows[2]["abstention_reasons"]
    asked = [(first, 3, None), (second["question"], 2, [DOC]), (third["question"], 3, None)]
    for row, (question, k, docs) in zip(rows, asked, strict=True):
        expected = json.loads(json.dumps(qa.ask(question, top_k=k, docs=docs).to_dict()))
        del row["timings"], expected["timings"]
        row.pop("id", None)
        assert row == expected  # each line is Answer.to_dict() of the same question through Assistant.ask
