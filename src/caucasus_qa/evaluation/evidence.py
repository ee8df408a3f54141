"""Evidence checks of the gold set: every quote must occur in the cleaned text of its document.

Quotes and texts are compared after :func:`normalize_for_match`; :func:`cleaned_texts` gives the
parsed body (with footnotes) of every corpus document, :func:`full_texts` the whole file with only
character-level repair (for the author, date and venue lines that a metadata question quotes).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .questions import Gold

__all__ = ["DEFAULT_CORPUS_DIR", "cleaned_texts", "full_texts", "normalize_for_match", "validate_evidence"]

DEFAULT_CORPUS_DIR = Path(__file__).resolve().parents[3] / "corpus"


_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)


def normalize_for_match(text: str) -> str:
    """Lowercase, NFKC, curly quotes straightened, every punctuation/symbol removed, whitespace collapsed.

    Punctuation is removed rather than replaced by a space, so ``Israel’s``,
    ``Israel's`` and ``Israels`` all match, as do ``initi-atives`` and ``initiatives``.
    """
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat[0] in "PS" or cat == "Cf":
            continue
        kept.append(" " if ch.isspace() else ch)
    return " ".join("".join(kept).split())


def validate_evidence(
    items: Sequence[Gold],
    cleaned_texts: dict[str, str],
    metadata_texts: dict[str, str] | None = None,
) -> list[str]:
    """One error line per evidence quote not found in the cleaned text of its document(s).

    ``cleaned_texts`` maps a document's file name to its cleaned text.  A quote of a
    question that names several documents may occur in any one of them.  The quotes of a
    ``metadata`` question (author, date and venue lines, which a parser keeps out of the
    body) may instead occur in ``metadata_texts`` (see :func:`full_texts`).
    """
    normalized = {name: normalize_for_match(text) for name, text in cleaned_texts.items()}
    meta_norm = {name: normalize_for_match(text) for name, text in (metadata_texts or {}).items()}
    errors: list[str] = []
    for item in items:
        missing = [d for d in item.docs if d not in normalized]
        for d in missing:
            errors.append(f"{item.id}: field 'doc': no cleaned text for {d}")
        docs = [d for d in item.docs if d in normalized]
        if not docs:
            continue
        for i, quote in enumerate(item.evidence):
            needle = normalize_for_match(quote)
            if not needle:
                errors.append(f"{item.id}: field 'evidence[{i}]': quote is empty after normalisation")
                continue
            found = any(needle in normalized[d] for d in docs)
            if not found and getattr(item, "type", None) == "metadata":
                found = any(needle in meta_norm.get(d, "") for d in docs)
            if not found:
                short = quote if len(quote) <= 80 else quote[:77] + "..."
                errors.append(f"{item.id}: field 'evidence[{i}]': not found in {', '.join(docs)}: {short!r}")
    return errors


def _corpus_files(corpus: Path) -> list[Path]:
    from caucasus_qa.settings import SUPPORTED_EXTENSIONS

    return sorted(
        p
        for p in corpus.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_EXTENSIONS
    )


def cleaned_texts(corpus_dir: str | Path | None = None) -> dict[str, str]:
    """Cleaned body text of every corpus document, keyed by file name.

    A document's text is ``parse_document(...).text`` followed by the text of its footnotes, so
    that the reference quoted by a citation question can be checked too.
    """
    from caucasus_qa.loaders import read_text
    from caucasus_qa.parse import parse_document

    corpus = Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS_DIR
    out: dict[str, str] = {}
    for p in _corpus_files(corpus):
        parsed = parse_document(read_text(p), doc_id=p.stem, path=str(p))
        notes = "\n\n".join(n.text for n in parsed.footnotes.values())
        out[p.name] = parsed.text + "\n\n" + notes
    return out


def full_texts(corpus_dir: str | Path | None = None) -> dict[str, str]:
    """Whole documents with only character-level repair (mojibake, Unicode), keyed by file name.

    The parser drops author, date, venue and copyright lines from the body on purpose;
    the evidence of a ``metadata`` question is such a line, so it is checked here.
    """
    from caucasus_qa.clean import clean_text
    from caucasus_qa.loaders import read_text

    corpus = Path(corpus_dir) if corpus_dir else DEFAULT_CORPUS_DIR
    return {p.name: clean_text(read_text(p)) for p in _corpus_files(corpus)}
