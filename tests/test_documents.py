"""Real documents made from the corpus (tests/docmaker.py): PDFs typeset by pdflatex in three layouts,
Word files with real footnotes from pandoc, a think-tank web page. Each is read and parsed as ingest
does, and checked against what went into it: every footnote marker resolved, title and authors,
no page furniture in the text, the page of a known sentence."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from caucasus_qa.chunk import Chunker
from caucasus_qa.loaders import load_document
from caucasus_qa.pages import page_label
from caucasus_qa.parse import parse_document

from . import docmaker

# (name, how it is made): two articles with different footnote styles (001: <sup>N</sup> footnotes,
# 002: endnotes), in layouts and tools that differ in columns, fonts, sizes and note placement
DOCUMENTS = {
    "001-twocol.pdf": lambda out: docmaker.make_pdf("001", docmaker.TWO_COLUMN, out),
    "002-endnotes.pdf": lambda out: docmaker.make_pdf("002", docmaker.ENDNOTES, out),
    "002-onecol.pdf": lambda out: docmaker.make_pdf("002", docmaker.ONE_COLUMN, out),
    "001-word.docx": lambda out: docmaker.make_docx("001", out),
    "002-word.docx": lambda out: docmaker.make_docx("002", out),
    "003-page.html": lambda out: docmaker.make_html("003", out),
}


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, docmaker.Made]:
    out = tmp_path_factory.mktemp("documents")
    return {name: make(out) for name, make in DOCUMENTS.items()}


_PARSED: dict[Path, object] = {}


def _parsed(m: docmaker.Made) -> object:
    """Read and parsed as ingest does (once per file: a PDF's layout takes a second or two)."""
    if m.path not in _PARSED:
        loaded = load_document(m.path)
        _PARSED[m.path] = parse_document(loaded.text, doc_id=m.path.name, path=str(m.path), meta=loaded.meta)
    return _PARSED[m.path]


def _same(a: str) -> str:
    """Compared as typeset: typographic quotes as straight ones, case and spacing ignored."""
    a = unicodedata.normalize("NFC", a).translate(str.maketrans("’‘“”", "''\"\""))
    return " ".join(a.casefold().split())


def _tokens(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", _same(text))


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_every_footnote_marker_resolves_as_in_the_text_file(made, name):
    m = made[name]
    doc = _parsed(m)
    assert doc.resolved_marker_count == m.markers  # the .txt version's count, exactly
    assert not doc.unresolved_markers
    assert len(doc.footnotes) == len(m.notes)


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_title_and_authors_come_from_the_document(made, name):
    m = made[name]
    doc = _parsed(m)
    assert _same(doc.record.title) == _same(m.title)
    assert tuple(_same(a) for a in doc.record.authors) == tuple(_same(a) for a in m.authors)


@pytest.mark.parametrize("name", list(DOCUMENTS))
def test_no_page_furniture_split_words_or_stray_numbers_in_the_text(made, name):
    """Every word of the parsed body was typeset as body text: no running head, no page number, no
    marker left inline ("affinities. 5"), no word split at a line end ("ex-istence")."""
    m = made[name]
    doc = _parsed(m)
    typeset = set(_tokens(" ".join(t for _, t in m.body)))
    extra = [t for p in doc.paragraphs for t in _tokens(p.text) if t not in typeset]
    assert len(extra) <= 1, extra  # at most one rare word the dictionary cannot rejoin
    if m.running_head:
        assert _same(m.running_head) not in _same(doc.text)
    sections = {_same(s) for p in doc.paragraphs for s in p.section}
    assert sections <= {_same(s) for sec, _ in m.body for s in sec}  # no section named after a running head


def test_hyphens_at_line_ends(made):
    """Line-end hyphens go only inside words; real hyphens stay (the two-column PDF breaks many)."""
    text = _parsed(made["001-twocol.pdf"]).text
    assert "Baku-Tbilisi-Ceyhan" in text and "Russia-allied" in text and "Turkic-majority" in text
    assert "existence" in text and "ex-istence" not in text
    assert "détente" in text  # an accent set as its own glyph (OT1 fonts) is put back on its letter


@pytest.mark.parametrize(("name", "phrase"), [("001-twocol.pdf", "Zionist asset"),
                                              ("002-endnotes.pdf", "balance-of-threat theory")])  # fmt: skip
def test_page_span_of_a_known_sentence(made, name, phrase):
    """The chunk holding the sentence knows the page pdfplumber's plain text finds the phrase on."""
    import pdfplumber

    m = made[name]
    with pdfplumber.open(m.path) as pdf:
        pages = [
            n for n, p in enumerate(pdf.pages, 1) if phrase in " ".join((p.extract_text() or "").split())
        ]
    assert len(pages) == 1
    doc = _parsed(m)
    chunker = Chunker(lambda texts: [len(t.split()) * 2 for t in texts], 256, 160, 1)
    chunks = [c for c in chunker.chunk(doc) if phrase in c.text.replace("“", "").replace("”", "")]
    assert chunks and all(c.pages[0] <= pages[0] <= c.pages[-1] <= c.pages[0] + 1 for c in chunks)
    n = pages[0]
    assert page_label(chunks[0].pages) in (f"p. {n}", f"pp. {n - 1}–{n}", f"pp. {n}–{n + 1}")


def test_every_paragraph_of_a_paged_document_has_pages_and_text_files_none(made, parsed_corpus):
    doc = _parsed(made["002-onecol.pdf"])
    assert all(p.page_breaks for p in doc.paragraphs)
    starts = [p.page_breaks[0][1] for p in doc.paragraphs]
    assert starts == sorted(starts) and starts[0] == 1 and starts[-1] >= 5
    for d in parsed_corpus.values():
        assert not any(p.page_breaks for p in d.paragraphs)


def test_page_labels():
    assert (page_label((4, 4)), page_label([4, 5]), page_label(())) == ("p. 4", "pp. 4–5", "")


def test_web_page_keeps_only_its_article(made):
    m = made["003-page.html"]
    doc = _parsed(m)
    for chrome in m.extra["chrome"].split("|"):
        assert chrome not in doc.text and all(chrome not in n.text for n in doc.footnotes.values())
    assert doc.record.date == m.extra["date"] and doc.record.venue == "Caspian Policy Forum"
    assert len(doc.paragraphs) >= len(m.body) - 2


def test_pdf_info_dictionary_title_is_used_only_when_the_page_bears_it_out(tmp_path):
    from caucasus_qa.pdf import _plausible

    page = " unlikely alliances how the wars in karabakh "
    assert _plausible("Unlikely Alliances", page)
    assert not _plausible("Microsoft Word - draft7.docx", page)
    assert not _plausible("Quarterly Report Template", page)


def test_docx_footnotes_are_word_footnotes(made):
    """pandoc writes real footnotes (the footnotes part), not text: the reader resolves them from there."""
    import zipfile

    with zipfile.ZipFile(made["001-word.docx"].path) as z:
        assert "word/footnotes.xml" in z.namelist()
        assert "<sup>" not in z.read("word/document.xml").decode()


def test_catalog_table_still_overrides_the_document(made, tmp_path):
    from caucasus_qa.catalog import load_catalog

    m = made["001-twocol.pdf"]
    (tmp_path / "catalog.toml").write_text('[docs."paper"]\ntitle = "Catalog Title"\n', encoding="utf-8")
    loaded = load_document(m.path)
    doc = parse_document(
        loaded.text, doc_id="paper.pdf", meta=loaded.meta, record=load_catalog(tmp_path)["paper"]
    )
    assert doc.record.title == "Catalog Title" and doc.record.authors == ("Emil A. Souleimanov",)


def test_generated_documents_stay_out_of_git():
    import subprocess

    tracked = subprocess.run(
        ["git", "ls-files", "*.pdf", "*.docx"], cwd=docmaker.REPO, capture_output=True, text=True
    )
    assert tracked.stdout.strip() == ""


@pytest.fixture()
def corpus_with(tmp_path: Path):
    def make(*files: tuple[str, bytes]) -> Path:
        corpus = tmp_path / "corpus"
        corpus.mkdir(exist_ok=True)
        for name, data in files:
            (corpus / name).write_bytes(data)
        return corpus

    return make


def test_same_stem_in_two_formats_gets_two_ids_and_unreadable_types_are_reported(made, corpus_with):
    from caucasus_qa.ingest import discover
    from caucasus_qa.manifest import Manifest
    from caucasus_qa.settings import Settings

    corpus = corpus_with(
        ("klaleche.pdf", made["002-onecol.pdf"].path.read_bytes()),
        ("klaleche.docx", made["002-word.docx"].path.read_bytes()),
        ("klaleche.txt", b"Text."),
        ("slides.odp", b"PK"),
    )
    skipped: list[str] = []
    found = discover(Settings(store={"corpus_dir": corpus}), Manifest(), [], skipped)
    assert set(found) == {"klaleche.pdf", "klaleche.docx", "klaleche"}
    assert len(skipped) == 1 and "slides.odp" in skipped[0] and "\n" not in skipped[0]
