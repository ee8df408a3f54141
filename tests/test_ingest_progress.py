"""An ingest shows one progress bar, whether its documents are written in one group or several."""

from __future__ import annotations

import pytest

from caucasus_qa import Assistant, index

pytestmark = pytest.mark.integration


class Bar:
    """Stands in for the tqdm bar: what was counted and how often it was closed."""

    def __init__(self, total: int, made: list[Bar]) -> None:
        self.total, self.done, self.closed = total, 0, 0
        made.append(self)

    def update(self, n: int) -> None:
        self.done += n

    def close(self) -> None:
        self.closed += 1


@pytest.mark.parametrize("stream_chunks", [index.STREAM_CHUNKS, 8])  # one group; a group per document
def test_one_bar_counts_every_chunk_of_the_changed_documents(
    mini_corpus, tmp_path, monkeypatch, stream_chunks
):
    made: list[Bar] = []
    monkeypatch.setattr(index, "progress_bar", lambda total: Bar(total, made))
    monkeypatch.setattr(index, "STREAM_CHUNKS", stream_chunks)
    qa = Assistant(corpus_dir=mini_corpus, store_dir=tmp_path / "store")
    first = qa.ingest(progress=True)
    assert len(made) == 1 and made[0].closed == 1
    assert made[0].total == made[0].done == first.added_chunks == first.embedded_chunks > 8

    path = mini_corpus / "004_2e4681bc52934605.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n\nA closing paragraph added later.\n", "utf-8")
    made.clear()
    changed = qa.ingest(progress=True)
    chunks = len(qa.manifest().docs["004_2e4681bc52934605"].chunk_ids)
    assert len(made) == 1 and made[0].total == made[0].done == chunks  # reused chunks counted too
    assert changed.embedded_chunks < chunks

    made.clear()
    qa.ingest(progress=True)
    assert made == []  # nothing changed: no bar
    qa.ingest()
    assert made == []  # progress off
