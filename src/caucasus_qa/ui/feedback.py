"""Thumbs up/down on answers, appended as one JSON object per line to ``<store_dir>/feedback.jsonl``."""

from __future__ import annotations

import fcntl
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def feedback_record(answer: dict[str, Any], liked: bool | str | None) -> dict[str, Any]:
    """``liked``: True (thumbs up), False (down), or the label of another feedback option."""
    vote = "up" if liked is True else "down" if liked is False else str(liked or "none").lower()
    return {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "question": answer.get("question", ""),
        "query": answer.get("query", ""),
        "answer": answer.get("answer", ""),
        "abstained": bool(answer.get("abstained")),
        "mode": answer.get("mode", ""),
        "chunk_ids": [s.get("chunk_id", "") for s in answer.get("sources", [])],
        "vote": vote,
    }


def append_feedback(store_dir: Path, record: dict[str, Any]) -> Path:
    """Append one line; an exclusive lock keeps lines whole when several sessions vote at once."""
    store_dir.mkdir(parents=True, exist_ok=True)
    path = store_dir / "feedback.jsonl"
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with path.open("a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write(line)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
    return path
