"""A synthetic corpus at any size, recombined from the real articles (deterministic).

Every real article is parsed with the project's own parser; its body paragraphs (clean text, footnote
markers removed, headings dropped) form one pool. Synthetic document ``i`` is a title line, a lead
paragraph, and paragraphs drawn from the pool by ``random.Random(f"{seed}:{i}")`` with two section
headings in between, written as ``syn_<i>.txt`` with a new document id. The same ``(seed, n_docs,
target_chars)`` always gives byte-identical files, so a re-run of the bench re-ingests an unchanged
corpus and tiers can be compared across runs.

``target_chars`` ≈ 4,900 gives ~10 chunks per document with the default chunker, so 10,000 documents
are ~100,000 chunks.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from pathlib import Path

from caucasus_qa.catalog import load_catalog
from caucasus_qa.loaders import read_text
from caucasus_qa.parse import parse_document
from caucasus_qa.settings import SUPPORTED_EXTENSIONS

DEFAULT_SEED = 20240611
TOPICS = (
    "Regional Security",
    "Energy Corridors",
    "Great-Power Rivalry",
    "Border Disputes",
    "Alliances and Arms",
    "Diplomacy after 2020",
)

FIRST = ("Anna", "Levan", "Nino", "Arsen", "Leyla", "Tamar", "Ruben", "Elvin")
LAST = ("Synthia", "Fabrikova", "Modelyan", "Testov", "Benchadze", "Samplov")


@dataclass(frozen=True)
class Pool:
    paragraphs: tuple[str, ...]
    titles: tuple[str, ...]


def paragraph_pool(corpus_dir: Path, min_chars: int = 80) -> Pool:
    """Body paragraphs (≥ ``min_chars``) of every real article, in corpus order, deduplicated."""
    catalog = load_catalog(corpus_dir)
    seen: set[str] = set()
    paragraphs: list[str] = []
    titles: list[str] = []
    for path in sorted(corpus_dir.iterdir()):
        if path.suffix.lower() not in SUPPORTED_EXTENSIONS or path.name.startswith("."):
            continue
        doc = parse_document(read_text(path), doc_id=path.stem, path=str(path), record=catalog.get(path.stem))
        titles.append(doc.record.title)
        for p in doc.paragraphs:
            text = " ".join(p.text.split())
            if len(text) >= min_chars and text not in seen:
                seen.add(text)
                paragraphs.append(text)
    if not paragraphs:
        raise ValueError(f"{corpus_dir}: no paragraphs to recombine")
    return Pool(tuple(paragraphs), tuple(titles))


def document(pool: Pool, i: int, seed: int = DEFAULT_SEED, target_chars: int = 4900) -> str:
    rng = random.Random(f"{seed}:{i}")
    topic = rng.choice(TOPICS)
    title = f"{topic} in the South Caucasus: Synthetic Study {i:05d}"
    # an explicit byline and lead, so that the parser never takes a body paragraph (e.g. one that
    # opens "By the mid-2010s, ...") for the byline
    byline = f"By {rng.choice(FIRST)} {rng.choice(LAST)}-{i:05d}"
    lead = f"This synthetic study recombines passages from {rng.choice(pool.titles)!s}."
    body: list[str] = []
    size = 0
    headings = {rng.randint(2, 4), rng.randint(6, 9)}
    while size < target_chars:
        if len(body) in headings:
            body.append(f"{len(body)}. {rng.choice(TOPICS)}")
        para = rng.choice(pool.paragraphs)
        body.append(para)
        size += len(para)
    return "\n\n".join([title, byline, lead, *body]) + "\n"


def generate(
    corpus_dir: Path, out_dir: Path, n_docs: int, seed: int = DEFAULT_SEED, target_chars: int = 4900
) -> list[Path]:
    """Write ``n_docs`` synthetic documents into ``out_dir`` (files already identical are left alone)."""
    pool = paragraph_pool(corpus_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n_docs):
        path = out_dir / f"syn_{i:05d}.txt"
        text = document(pool, i, seed, target_chars)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def digest(paths: list[Path]) -> str:
    """sha256 over the files' names and bytes: equal digests mean identical corpora."""
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()
