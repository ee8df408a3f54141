"""``Assistant.evaluate``: the API behind ``caucasus-qa eval``, and the CLI printing what it returns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from caucasus_qa import Assistant
from caucasus_qa.cli import main
from caucasus_qa.errors import InputError

from .conftest import CORPUS, REPO


def few_questions(tmp_path: Path) -> Path:
    """Two dev questions of eval/questions.jsonl (one factoid, one unanswerable) in a file of their own."""
    rows = [json.loads(line) for line in (REPO / "eval/questions.jsonl").read_text().splitlines() if line]
    picked = [
        next(r for r in rows if r["split"] == "dev" and r["type"] == t) for t in ("factoid", "unanswerable")
    ]
    path = tmp_path / "few.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in picked), encoding="utf-8")
    return path


def test_evaluate_rejects_an_unknown_split_before_loading_anything(tmp_path: Path) -> None:
    qa = Assistant(corpus_dir=CORPUS, store_dir=tmp_path / "s")
    with pytest.raises(InputError, match="split: expected one of"):
        qa.evaluate(split="holdout")
    assert not (tmp_path / "s" / "manifest.json").exists()


@pytest.mark.integration
def test_evaluate_returns_the_eval_result_and_writes_the_report(
    qa: Assistant, tmp_path: Path, capsys
) -> None:
    path = few_questions(tmp_path)
    wrote: list[Path] = []
    said: list[str] = []
    result = qa.evaluate(
        [path], split="dev", top_k=5, baselines=False, progress=said.append, report=tmp_path / "r",
        train_cv=False, wrote=wrote.append,
    )  # fmt: skip
    assert result["questions"] == 2 and result["answerable"] == 1 and result["top_k"] == 5
    assert set(result["systems"]) == {"hybrid"}  # no baselines asked for
    assert "train-cv" not in result["answers_by_split"]
    assert said and said[0].startswith("ours: 2 questions")
    assert {p.name for p in wrote} == {"report.md", "hit_at_k.png", "by_type.png"}
    md = (tmp_path / "r" / "report.md").read_text(encoding="utf-8")
    assert f"caucasus-qa eval --split dev --top-k 5 --report {tmp_path / 'r'}" in md

    # the CLI prints the same result (timings aside)
    args = ["--store-dir", str(qa.settings.store.store_dir), "--corpus-dir", str(CORPUS)]
    assert main(["eval", str(path), "--split", "dev", "-k", "5", "--no-baselines", "--json", *args]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == set(result)
    assert printed["systems"]["hybrid"]["overall"] == result["systems"]["hybrid"]["overall"]
    assert printed["answers"] == result["answers"]
