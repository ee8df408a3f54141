"""Read a Word file (.docx) into the text route: headings from paragraph styles, footnotes and endnotes
resolved to their reference marks, title and authors from the document's properties.

python-docx reads the body (paragraphs, their styles, the core properties); it has no API for the
footnotes and endnotes parts (as of 1.2), so those parts' XML is read here with the same lxml tree
python-docx already parsed the package with. A reference mark (``w:footnoteReference``) becomes
``<sup>N</sup>``, N its number as Word shows it (references numbered in order, footnotes first, then
endnotes), and each note a ``<sup>N</sup> text`` line after the body, which is what
:func:`caucasus_qa.parse.parse_document` resolves for every format.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from .errors import DocumentError

__all__ = ["read_docx"]

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RT = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)
_NAME = re.compile(r"^[A-Z][\w.'’-]*(?:\s+(?:[A-Z][\w.'’-]*|de|van|von|al-?|bin|da|del))+$")


def _note_texts(document: Any, kind: str) -> dict[str, str]:
    """``{w:id: text}`` of the real notes (not the separators) in the footnotes or endnotes part."""
    for rel in document.part.rels.values():
        if rel.reltype == _RT + kind + "s" and not rel.is_external:
            from lxml import etree

            root = etree.fromstring(rel.target_part.blob)
            out: dict[str, str] = {}
            for note in root.iter(f"{_W}{kind}"):
                if note.get(f"{_W}type") in ("separator", "continuationSeparator", "continuationNotice"):
                    continue
                paras = [_plain(p) for p in note.iter(f"{_W}p")]
                out[note.get(f"{_W}id", "")] = " ".join(p for p in paras if p).strip()
            return out
    return {}


def _plain(element: Any) -> str:
    """The text of a paragraph element, tabs and breaks as spaces, reference marks left out."""
    parts: list[str] = []
    for node in element.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}cr"):
        parts.append(node.text or "" if node.tag == f"{_W}t" else " ")
    return " ".join("".join(parts).split())


class _Numbering:
    """Word's display numbers: notes numbered in the order their references appear."""

    def __init__(self, notes: dict[str, dict[str, str]]) -> None:
        self.notes = notes
        self.numbers: dict[tuple[str, str], int] = {}

    def mark(self, kind: str, note_id: str) -> str:
        if note_id not in self.notes[kind]:
            return ""
        key = (kind, note_id)
        if key not in self.numbers:
            self.numbers[key] = len(self.numbers) + 1
        return f"<sup>{self.numbers[key]}</sup>"

    def lines(self) -> list[str]:
        return [f"<sup>{n}</sup> {self.notes[kind][i]}" for (kind, i), n in self.numbers.items()]


def _paragraph_text(p: Any, numbering: _Numbering) -> str:
    parts: list[str] = []
    for node in p._p.iter(f"{_W}t", f"{_W}tab", f"{_W}br", f"{_W}footnoteReference", f"{_W}endnoteReference"):
        if node.tag == f"{_W}t":
            parts.append(node.text or "")
        elif node.tag.endswith("Reference"):
            kind = "footnote" if node.tag == f"{_W}footnoteReference" else "endnote"
            parts.append(numbering.mark(kind, node.get(f"{_W}id", "")))
        else:
            parts.append(" ")
    return " ".join("".join(parts).split())


def _names(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in re.split(r"\s*(?:;|,|\band\b|&)\s*", text) if n.strip())
    return names if names and all(_NAME.match(n) and len(n.split()) <= 5 for n in names) else ()


def read_docx(path: Path, data: bytes) -> tuple[str, dict[str, Any]]:
    """The Word file's text for the parser and its metadata; DocumentError if it is not a Word file."""
    import io

    import docx
    from docx.opc.exceptions import PackageNotFoundError

    if not data.startswith(b"PK"):
        raise DocumentError(path, "not a Word file (.docx is a zip package; this is not one)")
    try:
        document = docx.Document(io.BytesIO(data))
        notes = {kind: _note_texts(document, kind) for kind in ("footnote", "endnote")}
        paragraphs = [(p.style.name if p.style is not None else "", p) for p in document.paragraphs]
        props = document.core_properties
        title, author, created = props.title or "", props.author or "", props.created
    except (zipfile.BadZipFile, PackageNotFoundError):
        raise DocumentError(path, "not a Word file (corrupt or not a .docx zip package)") from None
    except KeyError:
        raise DocumentError(path, "not a Word file (a zip package with no Word document in it)") from None
    except ValueError as exc:
        raise DocumentError(path, f"not a Word file ({exc})".splitlines()[0]) from None
    except Exception as exc:  # lxml's XMLSyntaxError and kin: a damaged part
        raise DocumentError(
            path, f"unreadable Word file ({type(exc).__name__}: {exc})".splitlines()[0]
        ) from None

    numbering = _Numbering(notes)
    lines: list[str] = []
    meta: dict[str, Any] = {}
    for style, p in paragraphs:
        text = _paragraph_text(p, numbering)
        if not text:
            continue
        heading = _HEADING.match(style)
        if style == "Title":
            meta.setdefault("title", text)
            lines.append(f"# {text}")
        elif style in ("Author", "Authors") and _names(text):
            meta.setdefault("authors", _names(text))
            lines.append(text)
        elif style in ("Date",):
            lines.append(text)
        elif heading:
            lines.append("#" * min(6, int(heading.group(1)) + 1) + " " + text)
        else:
            lines.append(("\\" + text) if text.startswith("#") else text)
    if not lines:
        raise DocumentError(path, "Word file has no text")
    if title.strip():
        meta["title"] = " ".join(title.split())
    if _names(author):
        meta["authors"] = _names(author)
    if created is not None:
        meta.setdefault("date", f"{created.year:04d}")
    return "\n\n".join(lines + numbering.lines()) + "\n", meta
