"""Read a saved web page into the text route: only the article, through trafilatura.

trafilatura finds the main content (navigation, share buttons, related links, comments and footers
left out) and the page's metadata (title, author, date, site name). What it does not do is keep
footnote links: ``<sup><a href="#fn3">3</a></sup>`` would come out as a bare "3" and the notes list as
body text. So before extraction each such link is replaced by a marker the parser reads (``⁽³⁾``) and
the note it points to is taken out of the page, to be written after the article as a
``<sup>3</sup> text`` line, as the other readers write their notes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from .errors import DocumentError

__all__ = ["read_html"]

_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
_BACKLINK = re.compile(r"\s*[↩↑^]\s*$|\s*\[?\s*(?:back|return)\s*\]?\s*$", re.IGNORECASE)


def _prepare(markup: str) -> tuple[str, list[str]]:
    """The page without scripts and templates, its in-page footnote links turned into ``⁽N⁾`` and
    their notes taken out; and the notes as ``<sup>N</sup> text`` lines (none when it has none)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for tag in soup(["script", "style", "noscript", "template", "svg", "iframe"]):
        tag.decompose()  # never text; trafilatura keeps a <template>'s content
    notes: dict[int, str] = {}
    for link in soup.find_all("a", href=re.compile(r"^#.")):
        if link.decomposed:
            continue  # a back link of a note already taken out
        target_id = str(link["href"])[1:]
        digits = re.sub(r"\D", "", link.get_text())
        sup = link.find_parent("sup") or link.find("sup")
        if not digits or len(digits) > 3 or (sup is None and not link.get_text().strip().startswith("[")):
            continue  # an anchor link to a section, not a note
        target = soup.find(id=target_id)
        if target is None:
            continue
        number = int(digits)
        if number not in notes:
            for back in target.find_all("a", href=re.compile(r"^#")):
                back.decompose()  # "↩" links back to the marker
            notes[number] = _BACKLINK.sub("", " ".join(target.get_text(" ").split()))
        (sup if sup is not None and sup is not link.find("sup") else link).replace_with(
            f"⁽{str(number).translate(_SUP)}⁾"
        )
    for number in notes:
        for target in soup.find_all(id=re.compile(rf"^(?:fn|footnote|note|endnote|ftn|_ftn)[-_:]?{number}$")):
            parent = target.find_parent(["ol", "ul", "section", "div", "aside"])
            target.decompose()
            if parent is not None and not parent.get_text(strip=True):
                parent.decompose()  # the emptied notes list (and its heading, if inside it)
    return str(soup), [f"<sup>{n}</sup> {t}" for n, t in sorted(notes.items()) if t]


def read_html(markup: str, path: Path | str) -> tuple[str, dict[str, Any]]:
    """The article of a web page as markdown for the parser, and its metadata."""
    import trafilatura

    page, notes = _prepare(markup)
    text = trafilatura.extract(
        page,
        output_format="markdown",
        include_comments=False,
        include_tables=True,
        include_formatting=True,
        include_links=False,
        include_images=False,
        favor_precision=True,
    )
    if not text or not text.strip():
        text = trafilatura.extract(page, output_format="markdown", include_comments=False, favor_recall=True)
    if not text or not text.strip():
        raise DocumentError(path, "no article text found in the page")
    found = trafilatura.extract_metadata(page)
    meta: dict[str, Any] = {}
    lines: list[str] = []
    if found is not None:
        if found.title:
            meta["title"] = found.title.strip()
            lines.append(f"# {meta['title']}")
        if found.author:
            authors = tuple(a.strip() for a in re.split(r";|\band\b|,", found.author) if a.strip())
            meta["authors"] = authors
            lines.append(", ".join(authors))
        if found.date:
            meta["date"] = found.date
        if found.sitename:
            meta["venue"] = found.sitename.strip()
        if found.url:
            meta["url"] = found.url
    body = text.strip()
    # the title trafilatura also writes at the top of the text is the one written above
    if meta.get("title") and body.lstrip("# ").startswith(meta["title"]):
        body = body.split("\n", 1)[1] if "\n" in body else ""
    return "\n\n".join([*lines, body, *notes]) + "\n", meta
