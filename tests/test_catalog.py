"""catalog: the real catalog.toml covers the corpus; inference; catalog entries override inference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from caucasus_qa.catalog import infer_record, load_catalog
from caucasus_qa.errors import DocumentError
from caucasus_qa.schema import DocumentRecord

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DOC_IDS = sorted(p.stem for p in CORPUS.glob("*.txt"))


@pytest.fixture(scope="module")
def catalog() -> dict[str, Any]:
    return dict(load_catalog(CORPUS))


def test_every_corpus_file_has_a_full_record(catalog: dict[str, Any]) -> None:
    assert sorted(catalog) == DOC_IDS
    for doc_id, rec in catalog.items():
        assert rec.doc_id == doc_id
        assert rec.title and rec.kind, doc_id
        assert rec.path.endswith(f"{doc_id}.txt")
    # venue and date where the text (or the author's own citations) gives them; 002 names neither
    assert all(
        catalog[d].venue and catalog[d].date[:4].isdigit() for d in DOC_IDS if not d.startswith("002_")
    )
    assert (catalog["002_b66d9f311757d21f"].venue, catalog["002_b66d9f311757d21f"].date) == ("", "")


@pytest.mark.parametrize(
    ("doc_id", "authors", "kind", "date"),
    [
        ("000_58fd850d681a9b3e", ("Vladimir (Ze'ev) Khanin",), "blog-post", "2022"),
        ("001_a928311d0961af7f", ("Emil A. Souleimanov",), "journal-article", "2024"),
        ("002_b66d9f311757d21f", ("Tassadit Klaleche",), "journal-article", ""),
        ("003_ccc9031e28dd9279", ("Ilya Roubanis",), "feature-article", "2024-05-30"),
        ("004_2e4681bc52934605", (), "opinion", "2021"),
    ],
)
def test_records(
    catalog: dict[str, Any], doc_id: str, authors: tuple[str, ...], kind: str, date: str
) -> None:
    rec = catalog[doc_id]
    assert (rec.authors, rec.kind, rec.date) == (authors, kind, date)


def test_urls_named_in_the_text(catalog: dict[str, Any]) -> None:
    assert catalog["001_a928311d0961af7f"].url == "https://doi.org/10.1111/mepo.12741"
    assert "globaldefensecorp.com" in catalog["004_2e4681bc52934605"].url
    raw = (CORPUS / "001_a928311d0961af7f.txt").read_text(encoding="utf-8")
    assert infer_record("001_a928311d0961af7f", raw).url == "https://doi.org/10.1111/mepo.12741"
    raw4 = (CORPUS / "004_2e4681bc52934605.txt").read_text(encoding="utf-8")
    assert infer_record("004_2e4681bc52934605", raw4).url == "https://www.globaldefensecorp.com"


def test_citation(catalog: dict[str, Any]) -> None:
    assert catalog["001_a928311d0961af7f"].short_citation().startswith("Souleimanov, “Unlikely Alliances")


@pytest.mark.parametrize(
    ("doc_id", "title", "authors"),
    [
        (
            "001_a928311d0961af7f",
            "Unlikely Alliances: How the Wars in Karabakh And Gaza Shape Northwest Asian Security",
            ("Emil A. Souleimanov",),
        ),
        (
            "002_b66d9f311757d21f",
            "THE IMPLICATIONS OF AZERBAIJAN'S STRATEGIC PARTNERSHIP ON IRAN'S NATIONAL SECURITY",
            ("Tassadit Klaleche",),
        ),
        (
            "003_ccc9031e28dd9279",
            "Iran's Security Posture in the South Caucasus After the War in Ukraine",
            ("Ilya Roubanis",),
        ),
        ("004_2e4681bc52934605", "Why Azerbaijani Wins In Nagorno-karabakh Is A Win For Israel?", ()),
        ("000_58fd850d681a9b3e", "A blog of the Kennan Institute", ("Vladimir (Ze'ev) Khanin",)),
    ],
)  # fmt: skip
def test_inference_on_the_corpus(doc_id: str, title: str, authors: tuple[str, ...]) -> None:
    rec = infer_record(doc_id, (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8"), path="p")
    assert (rec.title, rec.authors, rec.path) == (title, authors, "p")


def test_infer_markdown() -> None:
    rec = infer_record("x", "\n# My *Report* Title\n\n**Jane Doe and John Roe**\n\nBody text here.\n")
    assert rec.title == "My Report Title" and rec.authors == ("Jane Doe", "John Roe")


def test_infer_by_line_and_date() -> None:
    rec = infer_record(
        "y", "Regional Security After 2020\nBY MARY ANN SMITH\nMarch 3, 2023\n\nText starts here."
    )
    assert rec.title == "Regional Security After 2020"
    assert rec.authors == ("Mary Ann Smith",)
    assert rec.date == "2023-03-03"


def test_infer_falls_back_to_doc_id() -> None:
    assert infer_record("z_doc", "ok.\n").title == "z_doc"


def test_catalog_entry_overrides_inference(tmp_path: Path) -> None:
    from caucasus_qa.catalog import merge_record

    (tmp_path / "005_new.md").write_text("# Inferred Title\n\n**A. Person**\n\nBody.\n", encoding="utf-8")
    (tmp_path / "catalog.toml").write_text(
        '[docs."005_new"]\ntitle = "Catalog Title"\nvenue = "Some Venue"\ndate = "2020"\n', encoding="utf-8"
    )
    entry = load_catalog(tmp_path)["005_new"]
    assert (entry.title, entry.venue, entry.date) == ("Catalog Title", "Some Venue", "2020")
    inferred = infer_record("005_new", (tmp_path / "005_new.md").read_text(encoding="utf-8"))
    merged = merge_record(inferred, {"title": "Catalog Title", "venue": "Some Venue"})
    assert (
        merged.title == "Catalog Title" and merged.authors == ("A. Person",) and merged.venue == "Some Venue"
    )


def test_no_catalog_is_empty(tmp_path: Path) -> None:
    assert load_catalog(tmp_path) == {}


@pytest.mark.parametrize(
    "content",
    [
        '[docs."a"\ntitle = 1',
        '[docs."a"]\ntitel = "typo"\n',
        '[docs."a"]\nauthors = "One Author"\n',
        "docs = 3\n",
    ],
)
def test_bad_catalog(tmp_path: Path, content: str) -> None:
    (tmp_path / "catalog.toml").write_text(content, encoding="utf-8")
    with pytest.raises(DocumentError, match=r"catalog\.toml"):
        load_catalog(tmp_path)


def test_venue_acronym_is_one_rule_for_answers_and_retrieval() -> None:
    from caucasus_qa.aliases import document_aliases
    from caucasus_qa.schema import DocumentRecord

    def rec(venue: str) -> DocumentRecord:
        return DocumentRecord(doc_id="d", title="T", authors=("Ann Lee",), venue=venue)

    assert rec("Global Defense Corp").venue_acronym() == "GDC"
    assert rec("Caucasus Watch").venue_acronym() == "CW"
    assert rec("Middle East Policy, Wiley").venue_acronym() == ""  # a comma: not a name to abbreviate
    assert rec("Kennan Institute blog of the Wilson Center").venue_acronym() == ""  # too long
    assert rec("journal of things").venue_acronym() == ""  # not capitalised

    class Entry:
        record = rec("Global Defense Corp")

    manifest = type("M", (), {"docs": {"d": Entry()}})()
    assert document_aliases(manifest) == {"d": ["Lee", "GDC"]}  # the surname, then the venue's acronym


@pytest.mark.parametrize(
    ("doc_id", "affiliation"),
    [
        ("001_a928311d0961af7f", "Charles University in Prague, Czech Republic."),
        ("002_b66d9f311757d21f", "political science, Mouloud Mammeri University of Tizi Ouzou"),
        ("000_58fd850d681a9b3e", ""),  # the by-line runs straight into the body
        ("003_ccc9031e28dd9279", ""),
        ("004_2e4681bc52934605", ""),  # no author
    ],
)  # fmt: skip
def test_affiliation_inferred_from_the_line_under_the_author(doc_id: str, affiliation: str) -> None:
    rec = infer_record(doc_id, (CORPUS / f"{doc_id}.txt").read_text(encoding="utf-8"))
    assert rec.affiliation.endswith(affiliation) and bool(rec.affiliation) == bool(affiliation)


def test_fields_a_catalog_table_leaves_out_come_from_the_text(tmp_path: Path) -> None:
    from caucasus_qa.parse import parse_document

    text = "# Inferred Title\n\n**A. Person**\n\nProfessor of History, Some University\n\nBody text here.\n"
    (tmp_path / "005_new.md").write_text(text, encoding="utf-8")
    (tmp_path / "catalog.toml").write_text(
        '[docs."005_new"]\ntitle = "Catalog Title"\nurl = ""\n', encoding="utf-8"
    )
    doc = parse_document(
        text + "See https://example.org/x.\n", doc_id="005_new", record=load_catalog(tmp_path)["005_new"]
    )
    rec = doc.record
    assert rec.title == "Catalog Title"  # given: the table wins
    assert rec.url == ""  # given as empty: stays empty, not the URL found in the text
    assert rec.authors == ("A. Person",)  # left out: inferred
    assert rec.affiliation == "Professor of History, Some University"
    assert type(rec) is DocumentRecord  # what the manifest stores: a plain record
