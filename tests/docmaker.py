"""Test documents made from the corpus at test time: PDFs typeset by pdflatex, Word files by pandoc.

The corpus ``.txt`` is parsed by the project's own parser (paragraphs, sections, footnote markers and
entries, the catalog record), and the same article is written out as LaTeX or pandoc markdown, then
typeset. :class:`Made` keeps what went in (title, authors, the plain body text as typeset, the notes),
so tests compare what the readers get back with what was put in. Nothing generated is kept in git:
the files go to a cache folder (``tests/conftest.py``: a session-scoped fixture).

Layouts (``Layout``): two columns with page-bottom footnotes, running heads and page numbers (the
journal look); one column with an endnotes section; one column with footnotes in another font and
size; the same through pandoc's own LaTeX template. In CI a missing ``pdflatex`` or ``pandoc`` is an
error, not a skip (``require_tool``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"

# Cyrillic in the notes: Debian's texlive-latex-base has no Cyrillic fonts, so it is transliterated.
_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya".split(),  # noqa: SIM905
        strict=True,
    )
)
_CYRILLIC.update({"ъ": "", "ь": ""})
_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
    "^": r"\^{}", "_": r"\_", "%": r"\%", "~": r"\textasciitilde{}", "<": r"\textless{}",
    ">": r"\textgreater{}", "|": r"\textbar{}",
}  # fmt: skip
_KEEP = set("“”‘’–—…«»€£§°·×")


def plain(text: str) -> str:
    """``text`` in the characters pdflatex (T1, Latin) can set: Cyrillic transliterated, other
    letters without their accents where Latin-1 lacks them (``ə`` → ``e``)."""
    out = []
    text = text.replace("_", "-")  # OT1 sets \_ as a rule, not a glyph: no text to extract
    for ch in text:
        low = ch.lower()
        if low in _CYRILLIC:
            rep = _CYRILLIC[low]
            out.append(rep.capitalize() if ch != low else rep)
        elif (ord(ch) < 0x250 and (ord(ch) < 0x180 or ch in "ƏəİıŞşĞğ")) or ch in _KEEP:
            out.append({"Ə": "E", "ə": "e"}.get(ch, ch))
        else:
            base = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            out.append(base if base.strip() or ch.isspace() else " " if ch.isspace() else "")
    return "".join(out)


def latex_escape(text: str) -> str:
    text = plain(text)
    text = "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)
    return text.replace("…", r"\ldots{}")


def md_escape(text: str) -> str:
    for ch in "\\*_[]#<>`$^~|":
        text = text.replace(ch, "\\" + ch)
    return text


@dataclass
class Made:
    """A generated document and what went into it."""

    path: Path
    source: str  # corpus file stem it was made from
    title: str
    authors: tuple[str, ...]
    body: list[tuple[tuple[str, ...], str]]  # (section, paragraph text as typeset, no markers)
    notes: dict[int, str]
    markers: int  # footnote markers cited in the body
    running_head: str = ""
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    name: str
    notes: str  # "footnotes" | "endnotes"
    columns: int = 1
    font: str = "cm"  # "cm" (Computer Modern, OT1, Type 1) | "ec" (T1 + cmap, bitmap Type 3) | "sans"
    size: str = "10pt"
    running_head: bool = True
    info: bool = False  # title and author in the PDF's info dictionary (hyperref)
    tool: str = "latex"  # "latex" | "pandoc"


TWO_COLUMN = Layout("twocol", "footnotes", columns=2, font="cm", size="10pt")
ENDNOTES = Layout("endnotes", "endnotes", columns=1, font="ec", size="11pt", info=True)
ONE_COLUMN = Layout("onecol", "footnotes", columns=1, font="sans", size="12pt", running_head=False)
PANDOC_PDF = Layout("pandoc", "footnotes", columns=1, running_head=False, tool="pandoc")


def require_tool(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(f"{name} is not installed: CI must install it (see .ci/run)", pytrace=False)
    pytest.skip(f"{name} is not installed")


def source_document(stem: str) -> object:
    from caucasus_qa.catalog import load_catalog
    from caucasus_qa.loaders import read_text
    from caucasus_qa.parse import parse_document

    path = next(CORPUS.glob(f"{stem}*.txt"))
    record = load_catalog(CORPUS).get(path.stem)
    return parse_document(read_text(path), doc_id=path.stem, path=str(path), record=record)


def _surname(name: str) -> str:
    return name.split()[-1]


def _paragraphs(doc: object) -> list[tuple[tuple[str, ...], str, tuple[tuple[int, int], ...]]]:
    return [(p.section, p.text, p.marker_offsets) for p in doc.paragraphs]  # type: ignore[attr-defined]


def _with_markers(text: str, offsets: tuple[tuple[int, int], ...], mark: object, esc: object) -> str:
    out, pos = [], 0
    for at, number in offsets:
        out.append(esc(text[pos:at]))  # type: ignore[operator]
        out.append(mark(number))  # type: ignore[operator]
        pos = at
    out.append(esc(text[pos:]))  # type: ignore[operator]
    return "".join(out)


def _latex(doc: object, layout: Layout) -> tuple[str, str]:
    rec = doc.record  # type: ignore[attr-defined]
    notes = {n: f.text for n, f in doc.footnotes.items()}  # type: ignore[attr-defined]
    head = f"{_surname(rec.authors[0]).upper()}: {rec.title.split(':')[0].upper()}"
    opts = ",".join(o for o in (layout.size, "twocolumn" if layout.columns == 2 else "") if o)
    pre = [
        rf"\documentclass[{opts}]{{article}}",
        r"\input{glyphtounicode}\pdfgentounicode=1",
        r"\usepackage[utf8]{inputenc}",
    ]
    if layout.font == "ec":
        pre += [r"\usepackage{cmap}", r"\usepackage[T1]{fontenc}"]
    elif layout.font == "sans":
        pre.append(r"\renewcommand{\familydefault}{\sfdefault}")
    pre.append(r"\usepackage[margin=2cm]{geometry}")
    if layout.running_head:
        pre += [
            r"\usepackage{fancyhdr}\pagestyle{fancy}\fancyhf{}",
            rf"\fancyhead[L]{{\small {latex_escape(head)}}}\fancyhead[R]{{\small\thepage}}",
            r"\renewcommand{\headrulewidth}{0pt}",
        ]
    if layout.info:
        pre.append(
            rf"\usepackage[pdftitle={{{latex_escape(rec.title)}}},"
            rf"pdfauthor={{{latex_escape(', '.join(rec.authors))}}}]{{hyperref}}"
        )
    authors = r" \and ".join(latex_escape(a) for a in rec.authors)
    affiliation = rf"\\ \small {latex_escape(rec.affiliation)}" if rec.affiliation else ""
    body = [
        rf"\title{{{latex_escape(rec.title)}}}",
        rf"\author{{{authors}{affiliation}}}",
        r"\date{}",
        r"\begin{document}",
        r"\maketitle",
    ]
    seen: set[int] = set()

    def mark(n: int) -> str:
        if layout.notes == "endnotes":
            return rf"\textsuperscript{{{n}}}"
        if n in seen or n not in notes:
            return rf"\footnotemark[{n}]"
        seen.add(n)
        return rf"\footnote[{n}]{{{latex_escape(notes[n])}}}"

    section: tuple[str, ...] = ()
    for sec, text, offsets in _paragraphs(doc):
        if sec != section:
            for level, name in enumerate(sec):
                if level >= len(section) or section[level] != name:
                    cmd = "section" if level == 0 else "subsection"
                    body.append(rf"\{cmd}*{{{latex_escape(name)}}}")
            section = sec
        body.append(_with_markers(text, offsets, mark, latex_escape) + "\n")
    if layout.notes == "endnotes":
        body.append(r"\section*{Notes}")
        body.append(r"\begin{enumerate}")
        body += [rf"\item[{n}.] {latex_escape(t)}" for n, t in sorted(notes.items())]
        body.append(r"\end{enumerate}")
    body.append(r"\end{document}")
    return "\n".join(pre + body) + "\n", head


def _markdown(doc: object) -> str:
    rec = doc.record  # type: ignore[attr-defined]
    notes = {n: f.text for n, f in doc.footnotes.items()}  # type: ignore[attr-defined]
    lines = [
        "---",
        f"title: {json.dumps(plain(rec.title))}",
        "author:",
        *[f"- {json.dumps(plain(a))}" for a in rec.authors],
        "---",
        "",
    ]
    if rec.affiliation:
        lines += [md_escape(plain(rec.affiliation)), ""]
    section: tuple[str, ...] = ()
    for sec, text, offsets in _paragraphs(doc):
        if sec != section:
            for level, name in enumerate(sec):
                if level >= len(section) or section[level] != name:
                    lines += ["#" * (level + 1) + " " + md_escape(plain(name)), ""]
            section = sec
        lines += [_with_markers(text, offsets, lambda n: f"[^{n}]", lambda s: md_escape(plain(s))), ""]
    for n, t in sorted(notes.items()):
        lines += [f"[^{n}]: {md_escape(plain(t))}", ""]
    return "\n".join(lines)


def _made(doc: object, path: Path, layout_notes: str, head: str = "") -> Made:
    rec = doc.record  # type: ignore[attr-defined]
    return Made(
        path=path,
        source=doc.doc_id,  # type: ignore[attr-defined]
        title=plain(rec.title),
        authors=tuple(plain(a) for a in rec.authors),
        body=[(sec, plain(text)) for sec, text, _ in _paragraphs(doc)],
        notes={n: plain(f.text) for n, f in doc.footnotes.items()},  # type: ignore[attr-defined]
        markers=doc.resolved_marker_count,  # type: ignore[attr-defined]
        running_head=head,
        extra={"notes": layout_notes},
    )


def make_pdf(stem: str, layout: Layout, out_dir: Path) -> Made:
    """Typeset corpus article ``stem`` (a file-name prefix such as ``001``) in ``layout``."""
    doc = source_document(stem)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"{stem}-{layout.name}"
    if layout.tool == "pandoc":
        require_tool("pandoc")
        require_tool("pdflatex")
        src = out_dir / f"{name}.md"
        src.write_text(_markdown(doc), encoding="utf-8")
        _run(["pandoc", src.name, "-o", f"{name}.pdf", "--pdf-engine=pdflatex"], out_dir)
        return _made(doc, out_dir / f"{name}.pdf", layout.notes)
    require_tool("pdflatex")
    tex, head = _latex(doc, layout)
    (out_dir / f"{name}.tex").write_text(tex, encoding="utf-8")
    _run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", f"{name}.tex"], out_dir)
    return _made(doc, out_dir / f"{name}.pdf", layout.notes, head if layout.running_head else "")


def make_docx(stem: str, out_dir: Path) -> Made:
    """Corpus article ``stem`` as a Word file with real footnotes (pandoc writes them)."""
    require_tool("pandoc")
    doc = source_document(stem)
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"{stem}-word"
    (out_dir / f"{name}.md").write_text(_markdown(doc), encoding="utf-8")
    _run(["pandoc", f"{name}.md", "-o", f"{name}.docx"], out_dir)
    return _made(doc, out_dir / f"{name}.docx", "footnotes")


def _run(cmd: list[str], cwd: Path) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise RuntimeError(f"{' '.join(cmd)} failed in {cwd}:\n{tail}")


def make_html(stem: str, out_dir: Path) -> Made:
    """Corpus article ``stem`` as a think-tank web page: navigation, share buttons, related links,
    comments and a footer around the article, footnote links ``<sup><a href="#fn3">3</a></sup>``."""
    from html import escape

    doc = source_document(stem)
    rec = doc.record  # type: ignore[attr-defined]
    notes = {n: f.text for n, f in doc.footnotes.items()}  # type: ignore[attr-defined]
    seen: set[int] = set()

    def mark(n: int) -> str:
        ref = "" if n in seen else f' id="fnref{n}"'
        seen.add(n)
        return f'<sup{ref}><a href="#fn{n}" class="footnote-ref">{n}</a></sup>'

    parts: list[str] = []
    section: tuple[str, ...] = ()
    for sec, text, offsets in _paragraphs(doc):
        if sec != section and sec:
            parts.append(f"<h2>{escape(sec[-1])}</h2>")
            section = sec
        parts.append(f"<p>{_with_markers(text, offsets, mark, escape)}</p>")
    note_items = "\n".join(
        f'<li id="fn{n}">{escape(t)} <a href="#fnref{n}" class="back">↩</a></li>'
        for n, t in sorted(notes.items())
    )
    date = rec.date if len(rec.date) == 10 else f"{rec.date or '2023'}-06-01"
    author = escape(", ".join(rec.authors))
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(rec.title)} | Caspian Policy Forum</title>
<meta property="og:title" content="{escape(rec.title)}">
<meta property="og:site_name" content="Caspian Policy Forum">
<meta name="author" content="{author}">
<meta property="article:published_time" content="{date}T09:00:00+00:00">
<script>window.dataLayer = [];</script><style>nav {{ display: flex; }}</style>
</head><body>
<header class="site-header"><a href="/">Caspian Policy Forum</a>
<nav class="main-nav"><ul><li><a href="/research">Research Programs</a></li>
<li><a href="/events">Upcoming Events</a></li>
<li><a href="/experts">Our Experts</a></li>
<li><a href="/donate">Support Our Mission</a></li></ul></nav></header>
<main><article class="post">
<h1 class="entry-title">{escape(rec.title)}</h1>
<div class="byline">By <a rel="author" href="/experts/a">{author}</a> ·
<time datetime="{date}">{date}</time></div>
<div class="share-buttons"><a href="https://twitter.com/share">Share on Twitter</a>
<a href="https://facebook.com/sharer">Share on Facebook</a><a href="mailto:?">Email this article</a></div>
<div class="entry-content">
{chr(10).join(parts)}
</div>
<section class="footnotes"><h3>Notes</h3><ol>
{note_items}
</ol></section>
</article>
<aside class="related"><h3>Related Analysis</h3><ul>
<li><a href="/a1">Pipeline politics and the Black Sea littoral states</a></li>
<li><a href="/a2">Why the Central Asian water compact keeps failing</a></li></ul></aside>
<section id="comments" class="comments"><h3>3 Comments</h3>
<div class="comment"><p class="comment-author">TruthSeeker88</p>
<p>Great piece but you ignore the maritime border dispute entirely, shameful.</p></div>
<div class="comment"><p class="comment-author">Nadia K.</p>
<p>Thank you for this detailed analysis, sharing with my students today.</p></div>
<form><textarea>Leave a Reply</textarea><button>Post Comment</button></form></section>
</main>
<footer class="site-footer"><p>© 2024 Caspian Policy Forum. All rights reserved.</p>
<p><a href="/privacy">Privacy Policy</a> | <a href="/newsletter">Subscribe to our newsletter</a></p></footer>
</body></html>
"""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}-page.html"
    path.write_text(page, encoding="utf-8")
    made = _made(doc, path, "footnotes")
    made.extra["date"] = date
    made.extra["chrome"] = (
        "Research Programs|Upcoming Events|Share on Twitter|Email this article|Related Analysis|"
        "Pipeline politics|TruthSeeker88|maritime border dispute|sharing with my students|Leave a Reply|"
        "All rights reserved|Privacy Policy|Subscribe to our newsletter"
    )
    return made
