"""CLI and Python API: bad input gets one clear line and exit code 2; JSON output is complete."""

from __future__ import annotations

import gc
import json
import subprocess
import sys

import pytest

from caucasus_qa import Assistant
from caucasus_qa.cli import main
from caucasus_qa.errors import QuestionError

from .conftest import CORPUS, REPO

BAD_ASKS = [
    (["ask", ""], "empty"),
    (["ask", "   \t  "], "empty"),
    (["ask", "x" * 100_000], "limit"),
    (["ask", "-k", "0", "Why?"], "top_k"),
    (["ask", "-k", "10000", "Why?"], "top_k"),
]


@pytest.mark.parametrize(("argv", "word"), BAD_ASKS)
def test_bad_questions_exit_2_with_one_line(argv, word, tmp_path, capsys):
    code = main([*argv, "--store-dir", str(tmp_path / "s"), "--corpus-dir", str(CORPUS)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1 and word in err
    assert not (tmp_path / "s" / "manifest.json").exists()  # nothing was built or written


@pytest.mark.parametrize("bad", ["", "  ", "x" * 100_000, None, 42])
def test_bad_questions_raise_typed_error_in_python(bad, tmp_path):
    qa = Assistant(corpus_dir=CORPUS, store_dir=tmp_path / "s")
    with pytest.raises(QuestionError):
        qa.ask(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("k", [0, -1, 10_000, 2.5, True])
def test_bad_top_k_raises(k, tmp_path):
    with pytest.raises(QuestionError, match="top_k"):
        Assistant(corpus_dir=CORPUS, store_dir=tmp_path / "s").ask("Why?", top_k=k)  # type: ignore[arg-type]


def test_ingest_missing_path_exits_2(tmp_path, capsys):
    code = main(["ingest", str(tmp_path / "missing.txt"), "--store-dir", str(tmp_path / "s")])
    err = capsys.readouterr().err
    assert code == 2 and "missing.txt" in err and "no such file" in err


def test_ingest_unsupported_extension_exits_2(tmp_path, capsys):
    bad = tmp_path / "slides.pptx"
    bad.write_bytes(b"PK\x03\x04")
    code = main(["ingest", str(bad), "--store-dir", str(tmp_path / "s"), "--corpus-dir", str(tmp_path)])
    assert code == 2 and "slides.pptx" in capsys.readouterr().err


def test_console_script_reports_errors_on_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "caucasus_qa.cli", "ask", "  ", "--store-dir", str(tmp_path / "s")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("caucasus-qa: error: question:")
    assert "Traceback" not in proc.stderr


@pytest.mark.integration
def test_ask_json_and_docs(qa, capsys):
    args = ["--store-dir", str(qa.settings.store.store_dir), "--corpus-dir", str(CORPUS)]
    assert (
        main(["ask", "--json", "-k", "3", "Who", "wrote", "about", "the", "Zangezur", "corridor?", *args])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"question", "answer", "abstained", "abstention_reasons", "sources"}
    assert len(out["sources"]) == 3
    src = out["sources"][0]
    assert set(src) >= {
        "rank",
        "text",
        "doc_id",
        "title",
        "authors",
        "section",
        "references",
        "citation",
        "score",
    }
    assert src["rank"] == 1 and isinstance(src["authors"], list)

    assert main(["docs", "--json", *args]) == 0
    docs = json.loads(capsys.readouterr().out)
    assert len(docs) == 5 and all(d["chunks"] > 0 and d["title"] for d in docs)
    assert sum(1 for d in docs if d["affiliation"]) == 2  # Souleimanov's and Klaleche's

    assert (
        main(["ask", "--doc", "004_2e4681bc52934605", "Which", "drones", "did", "Israel", "sell?", *args])
        == 0
    )
    text = capsys.readouterr().out
    assert "Sources:" in text and "[1]" in text and "Why:" not in text

    assert main(["ask", "Who", "won", "the", "Tour", "de", "France", "in", "2019?", *args]) == 0
    text = capsys.readouterr().out
    assert text.startswith("The corpus does not appear to answer") and "\nWhy: " in text


def test_main_called_from_python_leaves_the_collector_alone(tmp_path, capsys):
    frozen = gc.get_freeze_count()
    assert main(["docs", "--store-dir", str(tmp_path / "s")]) == 0
    assert main(["ask", "  ", "--store-dir", str(tmp_path / "s")]) == 2
    capsys.readouterr()
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_standalone_one_shot_command_freezes_what_it_built(tmp_path):
    """Run as the process's command, ``docs`` collects nothing and freezes its objects at the end."""
    code = (
        "import gc, sys\n"
        f"sys.argv = ['caucasus-qa', 'docs', '--store-dir', {str(tmp_path / 's')!r}]\n"
        "from caucasus_qa.cli import main\n"
        "code = main()\n"
        "print(code, gc.isenabled(), gc.get_freeze_count() > 1000)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-3:] == ["0", "True", "True"]
