"""manifest.json records the digest of chunks.jsonl: an intact pair is confirmed without parsing it."""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path

import pytest

from caucasus_qa import manifest as manifest_mod
from caucasus_qa.errors import StoreError
from caucasus_qa.manifest import DocEntry, Manifest
from caucasus_qa.schema import Chunk, DocumentRecord


def _manifest() -> Manifest:
    chunks = {
        f"d{d}:{i}": Chunk(f"d{d}:{i}", f"d{d}", f"text {d}.{i} – naïve", "S", i, i, 0, 10, (1,), ("ref",))
        for d in range(2)
        for i in range(3)
    }
    docs = {
        f"d{d}": DocEntry(
            f"d{d}",
            f"/c/d{d}.txt",
            f"fp{d}",
            DocumentRecord(f"d{d}", "T", ("A B",)),
            [f"d{d}:{i}" for i in range(3)],
        )
        for d in range(2)
    }
    return Manifest(docs, chunks)


@pytest.fixture()
def files(tmp_path: Path) -> tuple[Path, Path]:
    mf, cf = tmp_path / "manifest.json", tmp_path / "chunks.jsonl"
    _manifest().save(mf, cf)
    return mf, cf


def test_saved_pair_is_intact_and_loads_back(files):
    mf, cf = files
    docs = Manifest.intact_docs(mf, cf)
    assert docs == _manifest().docs
    loaded = Manifest.load(mf, cf)
    assert loaded.complete and loaded.docs == docs and loaded.chunks == _manifest().chunks


def test_intact_docs_does_not_parse_chunks(files, monkeypatch):
    def no_parse(*args: object) -> None:
        raise AssertionError("chunks.jsonl parsed")

    parsed: list[str] = []
    real_loads = json.loads
    monkeypatch.setattr(manifest_mod, "read_chunks", no_parse)
    monkeypatch.setattr(json, "loads", lambda s, *a, **k: parsed.append(s) or real_loads(s, *a, **k))
    assert Manifest.intact_docs(*files) is not None
    assert len(parsed) == 1 and parsed[0].startswith("{\n")  # manifest.json only, no chunks.jsonl line


def _same_size_edit(path: Path) -> None:
    data = path.read_bytes()
    assert b"text 1.2" in data
    path.write_bytes(data.replace(b"text 1.2", b"text 9.2"))


def _drop_last_line(path: Path) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize("change", [_same_size_edit, _drop_last_line, _truncate, Path.unlink])
def test_chunks_changed_behind_the_manifest_are_not_intact(files, change):
    mf, cf = files
    change(cf)
    assert Manifest.intact_docs(mf, cf) is None
    # an ingest's lenient load sees it too, and re-verifies every document
    assert not Manifest.load(mf, cf, strict=False).complete


def test_damaged_chunks_are_still_refused_by_strict_loads(files):
    mf, cf = files
    _truncate(cf)
    with pytest.raises(StoreError, match="missing"):
        Manifest.load(mf, cf)


@pytest.mark.parametrize(
    "text",
    ['{"version": 1, "docs": {}}', '{"version": 0, "chunks_sha256": "x", "docs": {}}', "{trunc", "[]"],
    ids=["no-digest", "old-layout", "damaged", "not-an-object"],
)
def test_manifest_without_a_usable_digest_is_not_intact(files, text):
    mf, cf = files
    mf.write_text(text, encoding="utf-8")
    assert Manifest.intact_docs(mf, cf) is None


def test_no_manifest_is_not_intact(tmp_path):
    assert Manifest.intact_docs(tmp_path / "manifest.json", tmp_path / "chunks.jsonl") is None


def test_save_digest_confirms_a_pair_saved_without_one(files):
    mf, cf = files
    data = json.loads(mf.read_text(encoding="utf-8"))
    del data["chunks_sha256"]  # as a store written before the digest was recorded
    mf.write_text(json.dumps(data), encoding="utf-8")
    assert Manifest.intact_docs(mf, cf) is None
    loaded = Manifest.load(mf, cf, strict=False)
    assert loaded.complete  # no digest to compare: agreement is checked by parsing, as before
    loaded.save_digest(mf, cf)
    assert Manifest.intact_docs(mf, cf) == _manifest().docs


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_leaves_the_garbage_collector_as_it_was(files, enabled):
    mf, cf = files
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        Manifest.load(mf, cf)
        Manifest.intact_docs(mf, cf)
        mf.write_text("{trunc", encoding="utf-8")
        with pytest.raises(StoreError):
            Manifest.load(mf, cf)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def _never_hash(m: pytest.MonkeyPatch) -> list[Path]:
    hashed: list[Path] = []
    real = manifest_mod._sha256
    m.setattr(manifest_mod, "_sha256", lambda p: hashed.append(p) or real(p))
    return hashed


def test_chunks_older_than_the_manifest_are_confirmed_by_their_stat_alone(files, monkeypatch):
    mf, cf = files
    later = cf.stat().st_mtime_ns + 1_000_000_000
    os.utime(mf, ns=(later, later))  # manifest.json written in a later timestamp tick than chunks.jsonl
    hashed = _never_hash(monkeypatch)
    assert Manifest.intact_docs(mf, cf) == _manifest().docs and hashed == []


def test_chunks_stamped_in_the_manifests_tick_are_hashed(files, monkeypatch):
    mf, cf = files
    same = cf.stat().st_mtime_ns
    os.utime(mf, ns=(same, same))  # an edit in that tick could leave the stat unchanged: hash
    hashed = _never_hash(monkeypatch)
    assert Manifest.intact_docs(mf, cf) == _manifest().docs and hashed == [cf]


def test_a_stat_is_recorded_only_for_files_settled_before_they_were_read(tmp_path):
    f = tmp_path / "doc.txt"
    f.write_text("x", encoding="utf-8")
    now = time.time_ns()
    assert manifest_mod.settled_stat(f.stat(), now) is None
    old = now - manifest_mod.SETTLE_NS - 1_000_000_000
    os.utime(f, ns=(old, old))
    st = f.stat()
    assert manifest_mod.settled_stat(st, now) == [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
    assert manifest_mod.file_stat(f) == manifest_mod.settled_stat(st, now)
    assert manifest_mod.file_stat(tmp_path / "gone.txt") is None
