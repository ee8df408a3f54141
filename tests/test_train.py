"""Entities found once at ingest and kept; `caucasus-qa train` reproducing the shipped models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from caucasus_qa import entities as entities_mod
from caucasus_qa.cli import main
from caucasus_qa.evaluation.questions import load_questions
from caucasus_qa.evaluation.train import sentence_labels
from caucasus_qa.scorer import DEFAULT_PATH, load_models
from caucasus_qa.sentvec import SentenceStore, sentence_dir
from tests.conftest import CORPUS

pytestmark = pytest.mark.integration


def _tagged(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Spy on the NER: every text it is asked to tag."""
    seen: list[str] = []
    real = entities_mod.find_entities

    def spy(texts: Any, model: str, batch_size: int = 64) -> Any:
        seen.extend(texts)
        return real(texts, model, batch_size)

    monkeypatch.setattr(entities_mod, "find_entities", spy)
    return seen


def test_entities_are_stored_at_ingest_and_not_recomputed(
    mini_corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from caucasus_qa import Assistant

    seen = _tagged(monkeypatch)
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    qa.ingest()
    manifest = qa.manifest()
    assert len(seen) == len(manifest.chunks)  # every chunk tagged once
    store = SentenceStore(sentence_dir(qa.settings))
    rows = {cid: r for d in manifest.docs for cid, r in store.read(d).items()}
    assert set(rows) == set(manifest.chunks) and all(r.entities is not None for r in rows.values())
    people = {
        manifest.chunks[c].text[a:b] for c, r in rows.items() for a, b, k in r.entities or () if k == "PERSON"
    }
    assert "Abulfaz Elcibey" in people and "Aliyev" in people

    seen.clear()
    report = qa.ingest()  # unchanged: nothing tagged again
    assert seen == [] and report.embedded_chunks == 0

    doc = mini_corpus / "004_2e4681bc52934605.txt"
    text = doc.read_text(encoding="utf-8")
    doc.write_text(text.replace(" Israel ", " Israel, as Ilham Aliyev told Baku, ", 1), encoding="utf-8")
    seen.clear()
    report = qa.ingest()  # one document changed: only its new chunks are tagged
    assert report.updated_docs == 1 and 0 < len(seen) <= report.added_chunks
    assert any("Ilham Aliyev" in t for t in seen)


def test_answer_candidates_carry_the_stored_entities(qa: Any) -> None:
    draft = qa.draft("Which IRGC intelligence chief was removed from his post?", top_k=5)
    assert any(draft.composed.features[:, 0] > 0)  # similarity column filled
    from caucasus_qa.features import SENTENCE_FEATURES

    col = SENTENCE_FEATURES.index("type_match")
    best = max(range(len(draft.composed.candidates)), key=lambda i: draft.composed.candidates[i].score)
    assert "Tayyib" in draft.composed.candidates[best].text
    assert draft.composed.features[best, col] == 1.0  # a PERSON the question does not name


def test_training_labels_follow_the_gold_evidence(qa: Any) -> None:
    q = next(q for q in load_questions(CORPUS.parent / "eval" / "train.jsonl") if q.type == "factoid")
    qa.use_models(None)
    try:
        draft = qa.draft(q.question, top_k=10)
    finally:
        qa.use_models(load_models())
    labels = sentence_labels(q, draft)
    assert labels.sum() >= 1
    for c, y in zip(draft.composed.candidates, labels, strict=True):
        if y:
            assert any(k.lower() in c.text.lower() for k in q.keywords) or q.evidence


def test_train_reproduces_the_shipped_models(
    qa: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Fitted on the corpus ingested afresh, byte for byte the file in the package."""
    out = tmp_path / "scorer.json"
    args = ["--corpus-dir", str(CORPUS), "--store-dir", str(qa.settings.store.store_dir), "--out", str(out)]
    assert main(["train", *args]) == 0
    assert out.read_text(encoding="utf-8") == DEFAULT_PATH.read_text(encoding="utf-8")
    assert main(["train", *args, "--check"]) == 0  # --check compares with --out
    assert "reproduced exactly" in capsys.readouterr().out
