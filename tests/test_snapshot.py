"""The assistant reads the index through one IndexSnapshot per manifest version (snapshot.py)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest

from caucasus_qa import Assistant
from caucasus_qa.manifest import Manifest
from caucasus_qa.snapshot import IndexSnapshot


def test_one_snapshot_per_manifest_version_swapped_when_the_file_changes(tmp_path) -> None:
    qa = Assistant(corpus_dir=tmp_path / "corpus", store_dir=tmp_path / "store")
    first = qa.snapshot()
    assert qa.snapshot() is first and qa.manifest() is first.manifest  # no file yet: one empty version
    Manifest().save(qa.settings.manifest_file, qa.settings.chunks_file)
    second = qa.snapshot()
    assert second is not first and qa.snapshot() is second
    assert second.lexicon is second.lexicon and second.names is second.names  # built once per version
    st = qa.settings.manifest_file.stat()
    os.utime(qa.settings.manifest_file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert qa.snapshot() is not second  # another writer replaced the file


def test_a_snapshot_cannot_be_changed(tmp_path) -> None:
    snap = Assistant(store_dir=tmp_path / "store").snapshot()
    assert isinstance(snap, IndexSnapshot)
    with pytest.raises(dataclasses.FrozenInstanceError):
        snap.manifest = Manifest()  # type: ignore[misc]


@pytest.mark.integration
def test_every_stage_of_a_question_reads_the_snapshot_it_started_with(qa: Any, monkeypatch) -> None:
    """A new manifest version that appears while a question is answered is not seen by that question."""
    qa.ask("What does Iran fear?", top_k=3)  # indexed and warm
    taken: list[IndexSnapshot] = []
    real = type(qa).snapshot

    def snapshot(self: Any) -> IndexSnapshot:
        snap = real(self)
        taken.append(snap)
        self._snapshot = None  # the next read would be a new version
        return snap

    monkeypatch.setattr(type(qa), "snapshot", snapshot)
    ans = qa.ask("What does Iran fear?", top_k=3)
    chat = qa.chat(
        [
            {"role": "user", "content": "Who wrote “Unlikely Alliances”?"},
            {"role": "assistant", "content": "Emil Souleimanov."},
            {"role": "user", "content": "Where does he teach?"},
        ],
        top_k=3,
    )
    assert len(taken) == 2 and ans.sources and chat.sources
