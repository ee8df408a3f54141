"""Library tab logic: the documents table, uploads and removal (Gradio-free; app.py wires it)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from pathlib import Path
from typing import Any

from ..assistant import Assistant
from ..errors import CaucasusQAError
from .uploads import ingest_upload, upload_dir, validate_upload

COLUMNS = ("title", "authors", "venue", "date", "kind", "chunks", "footnotes_resolved", "doc_id")


def document_rows(qa: Assistant) -> list[list[Any]]:
    rows = []
    for d in qa.documents():
        info = d.to_dict()
        info["authors"] = ", ".join(info["authors"])
        rows.append([info[c] for c in COLUMNS])
    return rows


def document_choices(qa: Assistant) -> list[tuple[str, str]]:
    """(label, doc_id) pairs for the filter and the remove list."""
    out = []
    for d in qa.documents():
        r = d.record
        label = r.title if r.title and r.title != r.doc_id else r.doc_id
        out.append((f"{label} ({r.doc_id})" if label != r.doc_id else label, r.doc_id))
    return out


def upload_files(
    qa: Assistant, files: Sequence[str | Path], report: Callable[[float, str], None] | None = None
) -> tuple[list[str], list[str]]:
    """Validate and ingest each file; returns (messages of added files, messages of rejected files)."""
    s = qa.settings
    added: list[str] = []
    rejected: list[str] = []
    n = len(files)
    for i, f in enumerate(files):
        path = Path(f)
        if report:
            report(i / max(n, 1), f"Indexing {path.name}")
        try:
            accepted = validate_upload(path, path.name, s.serve.max_upload_mb)
            known = {d.record.doc_id for d in qa.documents()}
            dest = ingest_upload(qa, accepted, s.store.store_dir, known)
        except CaucasusQAError as err:
            rejected.append(str(err))
            continue
        chunks = next((d.chunks for d in qa.documents() if d.record.doc_id == dest.stem), 0)
        added.append(f"{dest.name}: added as {dest.stem!r} ({chunks} passage{'' if chunks == 1 else 's'})")
    if report:
        report(1.0, "Done")
    return added, rejected


def remove_document(qa: Assistant, doc_id: str) -> str:
    """Remove from the index; an uploaded file is deleted too, so it does not come back."""
    info = next((d for d in qa.documents() if d.record.doc_id == doc_id), None)
    report = qa.remove(doc_id)
    note = ""
    if info is not None:
        p = Path(info.path)
        uploads = upload_dir(qa.settings.store.store_dir).resolve()
        if p.is_file() and p.resolve().parent == uploads:
            p.unlink()
        elif p.resolve().is_relative_to(qa.settings.store.corpus_dir.resolve()):
            note = " It is in the corpus folder, so the next re-index adds it back."
    return f"Removed {doc_id} ({report.removed_chunks} passages).{note}"


def status_html(added: Sequence[str], rejected: Sequence[str]) -> str:
    items = [f'<li class="cqa-ok">✓ {escape(m)}</li>' for m in added]
    items += [f'<li class="cqa-bad" role="alert">✗ {escape(m)}</li>' for m in rejected]
    return f'<ul class="cqa-status">{"".join(items)}</ul>' if items else ""
