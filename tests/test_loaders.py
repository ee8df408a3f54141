"""loaders.read_text: every bad input is a DocumentError naming the file; html and pdf read."""

from __future__ import annotations

from pathlib import Path

import pytest

from caucasus_qa.errors import DocumentError
from caucasus_qa.loaders import read_text

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def _pdf(path: Path, text: str | None) -> Path:
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=300, height=200)
    if text is not None:
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
        )
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode("latin-1"))
        page[NameObject("/Contents")] = writer._add_object(stream)
    with path.open("wb") as fh:
        writer.write(fh)
    return path


def _raises(path: Path, fragment: str) -> None:
    with pytest.raises(DocumentError) as info:
        read_text(path)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert fragment in message.lower()


def test_missing(tmp_path: Path) -> None:
    _raises(tmp_path / "nope.txt", "no such file")


def test_directory(tmp_path: Path) -> None:
    d = tmp_path / "dir.txt"
    d.mkdir()
    _raises(d, "directory")


@pytest.mark.parametrize("content", [b"", b"   \n\t\n", "\ufeff  \n".encode("utf-16")])
def test_empty(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "empty.txt"
    p.write_bytes(content)
    _raises(p, "empty" if not content.strip() else "whitespace")


def test_binary(tmp_path: Path) -> None:
    p = tmp_path / "blob.txt"
    p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
    _raises(p, "binary")


def test_undecodable(tmp_path: Path) -> None:
    p = tmp_path / "bad.md"
    p.write_bytes(bytes(range(0x80, 0xA0)) * 4 + b"\x81\x8d\x8f\x90\x9d")
    _raises(p, "decode neither")


def test_unsupported_extension(tmp_path: Path) -> None:
    p = tmp_path / "doc.odt"
    p.write_bytes(b"hello")
    _raises(p, "unsupported extension")


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    _raises(_pdf(tmp_path / "scan.pdf", None), "no text layer")


def test_not_really_a_pdf(tmp_path: Path) -> None:
    p = tmp_path / "fake.pdf"
    p.write_bytes(b"just text")
    _raises(p, "not a pdf")


def test_text_pdf_reads(tmp_path: Path) -> None:
    assert "Hello Caucasus" in read_text(_pdf(tmp_path / "ok.pdf", "Hello Caucasus"))


def test_html_drops_script_and_keeps_blocks(tmp_path: Path) -> None:
    p = tmp_path / "page.html"
    p.write_text(
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<nav>Home | About</nav><h1>Heading</h1><p>First <b>para</b>.</p><p>Second para.</p>"
        "<script>var secret = 'SCRIPT TEXT';</script><noscript>enable JS</noscript>"
        "<footer>Copyright footer</footer></body></html>",
        encoding="utf-8",
    )
    text = read_text(p)
    assert "SCRIPT TEXT" not in text and "color:red" not in text and "enable JS" not in text
    assert "Home | About" not in text and "Copyright footer" not in text
    from caucasus_qa.loaders import load_document
    from caucasus_qa.parse import parse_document

    loaded = load_document(p)
    doc = parse_document(loaded.text, doc_id="page.html", meta=loaded.meta)
    assert doc.record.title == "Heading"
    assert [para.text for para in doc.paragraphs] == ["First para.", "Second para."]


def test_encodings(tmp_path: Path) -> None:
    for name, data in {
        "a.txt": "Azərbaycan’s “quote”".encode(),
        "b.txt": "\ufeffAzərbaycan’s “quote”".encode(),
        "c.txt": "Azərbaycan’s “quote”".encode("utf-16"),
    }.items():
        (tmp_path / name).write_bytes(data)
        assert read_text(tmp_path / name) == "Azərbaycan’s “quote”"
    (tmp_path / "d.txt").write_bytes("café – “ok”".encode("cp1252"))
    assert read_text(tmp_path / "d.txt") == "café – “ok”"


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.stem)
def test_corpus_reads_verbatim(path: Path) -> None:
    assert read_text(path) == path.read_bytes().decode("utf-8")
