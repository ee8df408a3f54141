"""Real documents through the whole pipeline (real model, real Chroma): the eval questions of an article
retrieve as well from its PDF or Word version as from its .txt; citations carry pages; hostile files
get one line, exit code 2 and leave the store as it was."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from caucasus_qa import Assistant
from caucasus_qa.cli import main
from caucasus_qa.evaluation import metrics as M
from caucasus_qa.evaluation.questions import load_questions

from . import docmaker
from .conftest import CORPUS, REPO

pytestmark = pytest.mark.integration

ARTICLES = {"001": "001_a928311d0961af7f", "002": "002_b66d9f311757d21f"}
VERSIONS = {
    "pdf": {
        "001": lambda out: docmaker.make_pdf("001", docmaker.TWO_COLUMN, out),
        "002": lambda out: docmaker.make_pdf("002", docmaker.ENDNOTES, out),
    },
    "docx": {
        "001": lambda out: docmaker.make_docx("001", out),
        "002": lambda out: docmaker.make_docx("002", out),
    },
}


def _questions(stem: str) -> list:
    wanted = f"{ARTICLES[stem]}.txt"
    return [
        q
        for q in load_questions(REPO / "eval" / "questions.jsonl")
        if q.doc == wanted and q.type != "unanswerable"
    ]


def _hit5(qa: Assistant, questions: list, doc_id: str) -> float:
    """hit@5 over the article's questions, retrieval limited to the article (the other documents differ
    between the stores compared)."""
    hits = []
    for q in questions:
        ans = qa.ask(q.question, top_k=5, docs=[doc_id])
        passages = [M.Passage(s.text, s.doc_id, tuple(s.references)) for s in ans.sources]
        hits.append(M.hit_at(M.coverage(q.evidence, passages, with_references=q.type == "citation"), 5))
    return sum(hits) / len(hits)


@pytest.fixture(scope="module")
def version_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Assistant, dict[str, str]]]:
    """For each format, a store of the three other .txt articles and both articles in that format."""
    out: dict[str, tuple[Assistant, dict[str, str]]] = {}
    for fmt, makers in VERSIONS.items():
        corpus = tmp_path_factory.mktemp(f"corpus_{fmt}")
        for p in CORPUS.glob("*.txt"):
            if not p.name.startswith(tuple(ARTICLES)):
                shutil.copy(p, corpus / p.name)
        ids = {}
        for stem, make in makers.items():
            made = make(tmp_path_factory.mktemp(f"made_{fmt}_{stem}"))
            shutil.copy(made.path, corpus / made.path.name)
            ids[stem] = made.path.name  # a .pdf's or .docx's id is its file name
        qa = Assistant(corpus_dir=corpus, store_dir=tmp_path_factory.mktemp(f"store_{fmt}"))
        qa.ingest()
        out[fmt] = (qa, ids)
    return out


@pytest.mark.parametrize("fmt", list(VERSIONS))
@pytest.mark.parametrize("stem", list(ARTICLES))
def test_eval_questions_retrieve_as_well_as_from_the_text_file(qa, version_stores, fmt, stem):
    questions = _questions(stem)
    assert len(questions) >= 20
    txt = _hit5(qa, questions, ARTICLES[stem])
    other, ids = version_stores[fmt]
    got = _hit5(other, questions, ids[stem])
    print(f"{fmt} {stem}: hit@5 {got:.3f} vs .txt {txt:.3f} over {len(questions)} questions")
    assert got >= txt - 0.03


def test_citation_question_names_the_source_with_its_page(version_stores):
    qa, ids = version_stores["pdf"]
    ans = qa.ask("Who does Souleimanov cite for the 'one nation, two states' notion?", top_k=3)
    top = ans.sources[0]
    assert top.doc_id == ids["001"] and top.pages and top.pages[0] >= 1
    assert any("Ismayilov" in r for r in top.references)
    assert "Ismayilov" in ans.answer
    assert top.citation.endswith(("p. " + str(top.pages[0]), f"–{top.pages[-1]}"))
    assert ans.to_dict()["sources"][0]["pages"] == top.pages
    for s in qa.ask("Why does Iran see Azerbaijan as a threat?", top_k=5).sources:
        assert bool(s.pages) == s.doc_id.endswith(".pdf")  # text files show no pages


def _hostile(tmp_path: Path) -> dict[str, bytes]:
    from pypdf import PdfWriter

    def pdf(encrypt: bool, pages: int) -> bytes:
        import io

        w = PdfWriter()
        for _ in range(pages):
            w.add_blank_page(width=300, height=300)
        if encrypt:
            w.encrypt(user_password="secret", owner_password="owner")
        buf = io.BytesIO()
        w.write(buf)
        return buf.getvalue()

    import io
    import zipfile

    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("photos/cat.jpg", b"\xff\xd8\xff not really")
    return {
        "locked.pdf": pdf(True, 1),
        "empty-pages.pdf": pdf(False, 0),
        "corrupt.docx": b"PK\x03\x04" + b"\x00" * 40 + b"truncated",
        "holiday.docx": other.getvalue(),
    }


def _store_state(store: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in (store / "manifest.json", store / "chunks.jsonl")
    }


def test_hostile_files_get_one_line_exit_2_and_leave_the_store_as_it_was(mini_corpus, tmp_path, capsys):
    store = tmp_path / "store"
    qa = Assistant(corpus_dir=mini_corpus, store_dir=store)
    qa.ingest()
    before, count = _store_state(store), qa.store.count()
    for name, data in _hostile(tmp_path).items():
        bad = tmp_path / name
        bad.write_bytes(data)
        code = main(["ingest", str(bad), "--store-dir", str(store), "--corpus-dir", str(mini_corpus)])
        err = capsys.readouterr().err.strip()
        assert code == 2, name
        assert len(err.splitlines()) == 1 and name in err, err
        assert _store_state(store) == before and qa.store.count() == count
