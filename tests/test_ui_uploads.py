"""Upload checks: file names sanitised, size/extension/content validated, failed uploads leave nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from caucasus_qa.errors import DocumentError
from caucasus_qa.ui.uploads import ingest_upload, sanitize_filename, validate_upload


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/abs/path/report.PDF", "report.pdf"),
        ("my report (v2);rm -rf *.md", "my_report_v2_rm_-rf.md"),
        ("$(touch pwned)`id`.txt", "touch_pwned_id.txt"),
        ("Çağrı–Gürcistan.html", "Cagr_Gurcistan.html"),
        ("notes", "notes"),
        ("a" * 300 + ".txt", "a" * 80 + ".txt"),
        ("-leading-dash.txt", "leading-dash.txt"),
    ],
)
def test_sanitize_filename(raw: str, safe: str) -> None:
    out = sanitize_filename(raw)
    assert out == safe
    assert "/" not in out and "\\" not in out and not out.startswith((".", "-"))


@pytest.mark.parametrize("raw", ["", "..", "../", ".txt", "???.txt", "//"])
def test_sanitize_filename_rejects_names_with_nothing_left(raw: str) -> None:
    with pytest.raises(DocumentError):
        sanitize_filename(raw)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def test_validate_accepts_text(tmp_path: Path) -> None:
    p = write(tmp_path, "x.txt", "Armenia and Azerbaijan — ünïcode text.\n".encode())
    acc = validate_upload(p, "../x y.txt", max_mb=1)
    assert acc.name == "x_y.txt" and acc.source == p


def test_validate_accepts_utf16_with_bom(tmp_path: Path) -> None:
    p = write(tmp_path, "x.txt", "\ufeffHello Caucasus".encode("utf-16"))
    assert validate_upload(p, "x.txt", max_mb=1).name == "x.txt"


@pytest.mark.parametrize(
    ("name", "data", "why"),
    [
        ("x.exe", b"MZ text", "unsupported file type"),
        ("x", b"text", "unsupported file type"),
        ("x.odt", b"PK\x03\x04", "unsupported file type"),
        ("x.docx", b"plain text, not a zip", "not a Word file"),
        ("x.txt", b"", "empty file"),
        ("x.txt", b"   \n\t ", "no text"),
        ("x.txt", b"abc\x00\x01\x02def", "binary"),
        ("x.md", bytes(range(0, 32)) * 20, "binary"),
        ("x.pdf", b"just text pretending", "not a PDF"),
    ],
)
def test_validate_rejects(tmp_path: Path, name: str, data: bytes, why: str) -> None:
    p = write(tmp_path, "upload.bin", data)
    with pytest.raises(DocumentError, match=why) as exc:
        validate_upload(p, name, max_mb=1)
    assert "\n" not in str(exc.value)


def test_validate_rejects_too_large(tmp_path: Path) -> None:
    p = write(tmp_path, "big.txt", b"word " * 30_000)  # ~150 KB
    with pytest.raises(DocumentError, match=r"more than the upload limit of 0\.1 MB"):
        validate_upload(p, "big.txt", max_mb=0.1)
    assert validate_upload(p, "big.txt", max_mb=0.2).name == "big.txt"


class FakeQA:
    def __init__(self, fail: Exception | None = None) -> None:
        self.fail = fail
        self.seen: list[list[Path]] = []

    def ingest(self, paths: list[Path]) -> object:
        self.seen.append(list(paths))
        assert all(p.is_file() for p in paths)  # the copy exists while ingesting
        if self.fail:
            raise self.fail
        return None


def test_ingest_upload_copies_into_uploads(tmp_path: Path) -> None:
    src = write(tmp_path, "tmp123", b"Some text about Georgia.")
    acc = validate_upload(src, "../../georgia notes.txt", max_mb=1)
    store = tmp_path / "store"
    qa = FakeQA()
    dest = ingest_upload(qa, acc, store, known_ids=set())
    assert dest == store / "uploads" / "georgia_notes.txt"
    assert dest.read_bytes() == src.read_bytes()
    assert qa.seen == [[dest]]


def test_failed_ingest_deletes_the_copy(tmp_path: Path) -> None:
    src = write(tmp_path, "tmp123", b"Some text.")
    acc = validate_upload(src, "bad.txt", max_mb=1)
    store = tmp_path / "store"
    qa = FakeQA(fail=DocumentError(store / "uploads" / "bad.txt", "no body text found after cleaning"))
    with pytest.raises(DocumentError) as exc:
        ingest_upload(qa, acc, store, known_ids=set())
    assert str(exc.value) == "bad.txt: no body text found after cleaning"  # no server path leaked
    assert list((store / "uploads").iterdir()) == []


def test_unexpected_failure_also_deletes_the_copy(tmp_path: Path) -> None:
    src = write(tmp_path, "tmp123", b"Some text.")
    acc = validate_upload(src, "boom.txt", max_mb=1)
    with pytest.raises(RuntimeError):
        ingest_upload(FakeQA(fail=RuntimeError("disk full")), acc, tmp_path / "store", known_ids=set())
    assert list((tmp_path / "store" / "uploads").iterdir()) == []


def test_duplicate_ids_are_refused_and_existing_file_kept(tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "uploads").mkdir(parents=True)
    existing = store / "uploads" / "notes.txt"
    existing.write_text("original")
    src = write(tmp_path, "tmp123", b"new text")
    acc = validate_upload(src, "notes.txt", max_mb=1)
    qa = FakeQA()
    with pytest.raises(DocumentError, match="already exists"):
        ingest_upload(qa, acc, store, known_ids=set())
    assert existing.read_text() == "original"
    acc2 = validate_upload(src, "000_corpus_doc.txt", max_mb=1)
    with pytest.raises(DocumentError, match="already exists"):
        ingest_upload(qa, acc2, store, known_ids={"000_corpus_doc"})
    assert qa.seen == []
