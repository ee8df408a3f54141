"""Ingest into a real embedded Chroma store with the real model: incremental, exact, safe."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from caucasus_qa import Assistant
from caucasus_qa.errors import DocumentError, StoreError
from caucasus_qa.schema import IngestReport
from caucasus_qa.settings import Settings
from caucasus_qa.store import Store

from .conftest import DOC_IDS

pytestmark = pytest.mark.integration


def store_state(qa: Assistant) -> dict[str, str]:
    got = qa.store.collection.get(include=["documents"])
    return dict(zip(got["ids"], got["documents"], strict=True))


def test_full_corpus_is_indexed_once(qa):
    docs = qa.documents()
    assert [d.record.doc_id for d in docs] == DOC_IDS
    total = sum(d.chunks for d in docs)
    assert qa.store.count() == total == len(qa.manifest().chunks)
    assert all(d.chunks >= 3 for d in docs)


def test_second_ingest_embeds_nothing_and_keeps_ids(qa):
    before = store_state(qa)
    report = qa.ingest()
    assert report.embedded_chunks == 0 and report.added_chunks == 0 and report.removed_chunks == 0
    assert report.unchanged_docs == len(DOC_IDS) and not report.changed
    assert store_state(qa) == before


def test_modified_file_replaces_only_its_own_chunks(mini_corpus, tmp_path):
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    first = qa.ingest()
    assert first.added_docs == 2 and first.embedded_chunks == qa.store.count()
    before = store_state(qa)
    other = {k: v for k, v in before.items() if k.startswith("000_")}

    path = mini_corpus / "004_2e4681bc52934605.txt"
    anchor = "Some 2,000 Russian peacekeepers entered the region"
    text = path.read_text(encoding="utf-8")
    assert anchor in text
    path.write_text(
        text.replace(anchor, "Both sides also signed a test accord on lake trout. " + anchor), "utf-8"
    )
    report = qa.ingest()
    assert report.updated_docs == 1 and report.unchanged_docs == 1
    assert 1 <= report.embedded_chunks <= 2  # only the changed passage is embedded again
    after = store_state(qa)
    assert {k: v for k, v in after.items() if k.startswith("000_")} == other
    assert any("lake trout" in v for v in after.values())
    assert len(set(after)) == len(after) == qa.store.count()

    (mini_corpus / "004_2e4681bc52934605.txt").unlink()
    removed = qa.ingest()
    assert removed.removed_docs == 1
    assert set(store_state(qa)) == set(other)
    assert [d.record.doc_id for d in qa.documents()] == ["000_58fd850d681a9b3e"]


def test_rebuild_gives_identical_ids(mini_corpus, tmp_path):
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    qa.ingest()
    ids = sorted(store_state(qa))
    report = qa.ingest(rebuild=True)
    assert report.embedded_chunks == len(ids)
    assert sorted(store_state(qa)) == ids


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty"),
        ("blank.md", b"   \n\n  ", "empty"),
        ("binary.txt", bytes(range(256)) * 8, "binary"),
        ("notes.docx", b"PK\x03\x04 some zip", "not a word file"),
        ("slides.odp", b"PK\x03\x04 some zip", "unsupported extension"),
    ],
)
def test_bad_files_are_refused_and_leave_the_store_as_it_was(mini_corpus, tmp_path, name, content, message):
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    qa.ingest()
    before = store_state(qa)
    manifest = (tmp_path / "store" / "manifest.json").read_text()
    bad = tmp_path / name
    bad.write_bytes(content)
    with pytest.raises(DocumentError) as err:
        qa.ingest([bad])
    assert name in str(err.value) and message in str(err.value).lower()
    assert "\n" not in str(err.value)
    assert store_state(qa) == before
    assert (tmp_path / "store" / "manifest.json").read_text() == manifest


def test_missing_path_is_refused(qa, tmp_path):
    with pytest.raises(DocumentError, match="no such file"):
        qa.ingest([tmp_path / "nope.txt"])


def test_added_markdown_file_is_searchable_with_inferred_metadata(mini_corpus, tmp_path):
    extra = tmp_path / "lachin_note.md"
    extra.write_text(
        "# The Lachin Corridor Note\n\nBY JANE ROE\n\n## Background\n\n"
        "The Lachin corridor was the only road linking Armenia to Karabakh. "
        "Its blockade in 2023 caused shortages of food and medicine.\n",
        encoding="utf-8",
    )
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    qa.ingest()
    report = qa.ingest([extra])
    assert report.added_docs == 1 and report.unchanged_docs == 2
    info = {d.record.doc_id: d.record for d in qa.documents()}["lachin_note"]
    assert info.title == "The Lachin Corridor Note" and info.authors == ("Jane Roe",)
    ans = qa.ask("What did the blockade of the road to Karabakh cause?", top_k=3)
    assert ans.sources[0].doc_id == "lachin_note"
    # files added from outside the corpus stay indexed on a plain re-ingest
    assert qa.ingest().unchanged_docs == 3


def test_store_built_with_another_model_is_refused(tmp_path):
    s = Settings(store={"store_dir": tmp_path / "store"})
    Store(s, "some/other-model", 768)
    with pytest.raises(StoreError, match="rebuild"):
        Store(s, s.embed.model_name, 384)


@pytest.mark.parametrize(
    ("question", "doc", "evidence"),
    [
        (
            "Why does Iran see Azerbaijan as a threat?",
            "002_b66d9f311757d21f",
            "Iran believes that it is also targeted by Azerbaijan",
        ),
        (
            "How many joint military exercises did Turkey and Azerbaijan hold in 2022?",
            "001_a928311d0961af7f",
            "more than 20 joint military exercises were held between the two countries",
        ),
        (
            "What share of Israel's oil comes from Azerbaijan according to the opinion piece?",
            "004_2e4681bc52934605",
            "Israel sell weapons to Azerbaijan, purchase its oil",
        ),
    ],
)
def test_known_evidence_is_in_the_top_5(qa, question, doc, evidence):
    ans = qa.ask(question, top_k=5)
    assert len(ans.sources) == 5
    found = [s.rank for s in ans.sources if s.doc_id == doc and evidence in s.text]
    assert found, [(s.rank, s.doc_id, s.text[:80]) for s in ans.sources]
    assert ans.answer and "[" in ans.answer
    json.dumps(ans.to_dict())  # JSON-serialisable


def test_doc_filter_restricts_sources(qa):
    ans = qa.ask("What does Iran fear?", top_k=8, docs=["002_b66d9f311757d21f"])
    assert ans.sources and {s.doc_id for s in ans.sources} == {"002_b66d9f311757d21f"}
    two = qa.ask("What does Iran fear?", top_k=10, docs=["000_58fd850d681a9b3e", "004_2e4681bc52934605"])
    assert {s.doc_id for s in two.sources} <= {"000_58fd850d681a9b3e", "004_2e4681bc52934605"}


def test_store_is_persistent_across_assistants(qa):
    again = Assistant(corpus_dir=qa.settings.store.corpus_dir, store_dir=qa.settings.store.store_dir)
    assert again.store.count() == qa.store.count()
    assert Path(qa.settings.manifest_file).exists()


# -- the stat cache: a file whose stat is as recorded is not read ---------------------------------------


def _age(path: Path, seconds: float) -> None:
    """Set the file's mtime ``seconds`` into the past (settled: see manifest.SETTLE_NS)."""
    t = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(t, t))


def _spy_reads(m: pytest.MonkeyPatch) -> list[Path]:
    from caucasus_qa import ingest

    reads: list[Path] = []
    real = ingest.read_with_stat
    m.setattr(ingest, "read_with_stat", lambda p: reads.append(Path(p)) or real(p))
    return reads


def test_settled_files_are_read_only_when_their_stat_changes(mini_corpus, tmp_path, monkeypatch):
    docs = sorted(mini_corpus.glob("*.txt"))
    for p in docs:
        _age(p, 3600)
    store = tmp_path / "store"
    Assistant(corpus_dir=mini_corpus, store_dir=store).ingest()
    reads = _spy_reads(monkeypatch)

    def ingest() -> IngestReport:
        reads.clear()
        return Assistant(corpus_dir=mini_corpus, store_dir=store).ingest()

    report = ingest()
    assert reads == [] and report.unchanged_docs == 2 and not report.changed

    _age(docs[0], 1800)  # touched: read, found unchanged, its new stat recorded
    report = ingest()
    assert reads == [docs[0]] and report.unchanged_docs == 2 and report.embedded_chunks == 0
    assert ingest().unchanged_docs == 2 and reads == []

    before = docs[1].stat()
    data = docs[1].read_bytes()
    assert b" Iran " in data
    docs[1].write_bytes(data.replace(b" Iran ", b" Iraq ", 1))  # same size, mtime put back
    os.utime(docs[1], ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (docs[1].stat().st_size, docs[1].stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    report = ingest()  # the ctime differs
    assert reads == [docs[1]] and report.updated_docs == 1 and report.embedded_chunks >= 1

    Path(store / "manifest.json").write_text(  # a catalog or settings change: the setup differs
        (store / "manifest.json").read_text(encoding="utf-8").replace('"setup": "', '"setup": "x'),
        encoding="utf-8",
    )
    report = ingest()
    assert sorted(reads) == docs and report.unchanged_docs == 2 and not report.changed
    assert ingest().unchanged_docs == 2 and reads == []  # the setups were recorded again


def test_a_recently_modified_file_is_read_until_it_settles(mini_corpus, tmp_path, monkeypatch):
    docs = sorted(mini_corpus.glob("*.txt"))  # just copied: modified now
    store = tmp_path / "store"
    Assistant(corpus_dir=mini_corpus, store_dir=store).ingest()
    entries = json.loads((store / "manifest.json").read_text(encoding="utf-8"))["docs"]
    assert all(e["stat"] is None for e in entries.values())
    reads = _spy_reads(monkeypatch)
    assert Assistant(corpus_dir=mini_corpus, store_dir=store).ingest().unchanged_docs == 2
    assert sorted(reads) == docs  # no stat to trust: read and fingerprinted
    for p in docs:
        _age(p, 60)
    reads.clear()
    assert Assistant(corpus_dir=mini_corpus, store_dir=store).ingest().unchanged_docs == 2
    assert sorted(reads) == docs
    reads.clear()
    assert Assistant(corpus_dir=mini_corpus, store_dir=store).ingest().unchanged_docs == 2
    assert reads == []


# -- an unchanged store is confirmed by the digest of chunks.jsonl, without parsing it -------------------


def _forbid_parsing_chunks(m: pytest.MonkeyPatch) -> None:
    """Any parse of chunks.jsonl fails the test: by its reader, ``manifest.read_chunks``, or of any of
    its lines by ``json.loads`` (a chunk's line starts with its id)."""
    from caucasus_qa import ingest, manifest

    def parse(*args: object) -> None:
        raise AssertionError("chunks.jsonl was parsed")

    real_loads = json.loads

    def loads(s: str | bytes, *args: object, **kwargs: object) -> object:
        if (s if isinstance(s, str) else s.decode(errors="replace")).startswith('{"chunk_id"'):
            raise AssertionError("a line of chunks.jsonl was parsed")
        return real_loads(s, *args, **kwargs)  # type: ignore[arg-type]

    for module in (manifest, ingest):
        m.setattr(module, "read_chunks", parse)
    m.setattr(json, "loads", loads)


def _stamped_store(corpus: Path, store: Path) -> bytes:
    Assistant(corpus_dir=corpus, store_dir=store).ingest()
    return (store / "chunks.jsonl").read_bytes()


def test_unchanged_reingest_parses_no_chunks_and_loads_no_model(mini_corpus, tmp_path, monkeypatch):
    _stamped_store(mini_corpus, tmp_path / "store")
    _forbid_parsing_chunks(monkeypatch)
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")  # as a new `caucasus-qa ingest`
    report = qa.ingest()
    assert report.unchanged_docs == 2 and report.unchanged_chunks == qa.store.count()
    assert report.embedded_chunks == 0 and not report.changed
    assert set(report.footnotes_resolved) == {"000_58fd850d681a9b3e", "004_2e4681bc52934605"}
    assert qa._embedding is None


def _edit_a_chunk(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    chunk = json.loads(lines[3])
    chunk["text"] = chunk["text"].replace("a", "o")  # still valid, every id still there
    lines[3] = json.dumps(chunk, ensure_ascii=False) + "\n"
    path.write_text("".join(lines), encoding="utf-8")


def _drop_a_line(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:5] + lines[6:]))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("damage", [_edit_a_chunk, _drop_a_line, _truncate, Path.unlink])
def test_chunks_jsonl_changed_behind_the_manifest_is_rewritten_by_ingest(
    mini_corpus, tmp_path, monkeypatch, damage
):
    store = tmp_path / "store"
    clean = _stamped_store(mini_corpus, store)
    ids = sorted(store_state(Assistant(corpus_dir=mini_corpus, store_dir=store)))
    damage(store / "chunks.jsonl")
    qa = Assistant(corpus_dir=mini_corpus, store_dir=store)
    report = qa.ingest()
    assert report.embedded_chunks == 0  # every document verified again; the stored vectors reused
    assert (store / "chunks.jsonl").read_bytes() == clean
    assert sorted(store_state(qa)) == ids
    _forbid_parsing_chunks(monkeypatch)  # and settled: the next ingest confirms it by the digest
    assert not qa.ingest().changed


def test_store_saved_without_a_digest_is_parsed_once_then_confirmed_by_it(mini_corpus, tmp_path, monkeypatch):
    store = tmp_path / "store"
    clean = _stamped_store(mini_corpus, store)
    data = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    del data["chunks_sha256"]  # as written before the digest was recorded
    (store / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    assert not Assistant(corpus_dir=mini_corpus, store_dir=store).ingest().changed  # parsed, agreed
    assert (store / "chunks.jsonl").read_bytes() == clean
    _forbid_parsing_chunks(monkeypatch)
    assert not Assistant(corpus_dir=mini_corpus, store_dir=store).ingest().changed


def test_files_under_lists_what_sorted_rglob_does(tmp_path):
    from caucasus_qa.discovery import files_under

    for rel in (
        "a-b.txt",
        "a/b.txt",
        "a/.hidden.txt",
        ".dir/x.md",
        "B.txt",
        "a b/c.txt",
        "a.b/c.txt",
        "z/y/x.txt",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    (tmp_path / "empty").mkdir()
    (tmp_path / "linked").symlink_to(tmp_path / "a")
    (tmp_path / "link.txt").symlink_to(tmp_path / "B.txt")
    (tmp_path / "broken.txt").symlink_to(tmp_path / "nothing")
    expected = [p for p in sorted(tmp_path.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    assert files_under(tmp_path) == expected
    assert [p.relative_to(tmp_path).as_posix() for p in expected][:4] == [
        ".dir/x.md",
        "B.txt",
        "a/b.txt",
        "a b/c.txt",
    ]
