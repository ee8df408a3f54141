"""Question patterns live in one place (issue 14): ``query.py`` and ``query_words.py``.

A *question pattern* is a regex or phrase table that reads the wording of a question (or of the
query retrieval searches for). Those two modules alone may hold one. Every other regex in the
package is listed below with what it reads (passages, sentences, file formats, …), so a new one
fails until someone decides where it belongs; and a regex of another module applied to a variable
that holds a question fails whatever its name.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "caucasus_qa"

#: the only modules allowed to hold question patterns
QUESTION_MODULES = frozenset({"query.py", "query_words.py"})

#: every other module that compiles a regex: its regexes (the names they are assigned to; "<inline>"
#: for one passed straight to a call) and what they read. None of them reads a question.
OTHER_PATTERNS: dict[str, tuple[str, str]] = {
    "aliases.py": ("_RUN pattern", "document names from the catalog (surnames, acronyms), built from data"),
    "answer.py": ("FRONT_MATTER", "section titles"),
    "blocks.py": ("MD_HEADING _CHROME_BLOCK _DATE_LINE _SEPARATOR _TAIL_CHROME _WORD", "document blocks"),
    "catalog.py": (
        "_AFFILIATION _BY_LINE _DATE_LINE _DOI _MD_MARKUP _NAME _URL",
        "a document's opening lines",
    ),
    "clean.py": (
        "_ANGLE_URL _CAPS_BREAK _CJK_RUN _CONTROLS _INVISIBLE _LEADING_WORD _MD_BOLD _MD_EM _MD_ESCAPE "
        "_MD_IMAGE _MD_LINK _MD_STRAY_STAR _ODD_SPACES _TERMINAL _WORD_HYPHEN_END",
        "document text being cleaned",
    ),
    "features.py": (
        "_ENUMERATION _FIGURE _MODEL_CODE _NAMED_NOUN _NEGATION _QUOTATION _QUOTED_NAME _REASON _WORD _YEAR",
        "candidate answer sentences",
    ),
    "focus.py": ("NUMBER _WORD _YEAR", "passage sentences (and the tokenizer shared with them)"),
    "footnotes.py": (
        "NOTES_HEADING _ANGLE_URL _BARE_SUP _BULLET _ENDNOTE_ITEM _ENTRY_HTML _ENTRY_SUP _HTML_SUP _LINK "
        "_LONE_ANGLE _PAREN_SUP _SENTINEL _URL_SPLIT_LINK",
        "footnote markers and notes in documents",
    ),
    "lexicon.py": ("_WORD", "the tokenizer for every text"),
    "llm.py": ("_MARKER _TAG", "the LLM's answer"),
    "pages.py": ("PAGE_MARK", "page marks in document text"),
    "parse.py": ("_AUTHOR_TITLE_START _CAPTION_CREDIT _URL_END _WORD", "document paragraphs"),
    "pdf.py": (
        "_BAD_TITLE _COPYRIGHT_YEAR _DATE _DOI _LABEL _LEADING_LETTERS _NAME _TERMINAL _TRAILING_LETTERS",
        "PDF text and metadata",
    ),
    "pdf_layout.py": ("_BOLD _PAGE_NUMBER _SUP_TEXT", "PDF font names and rows"),
    "ui/render.py": ("MARKER", "citation markers in an answer"),
    "ui/uploads.py": ("_UNSAFE", "uploaded file names"),
    "webpage.py": ("_BACKLINK <inline>", "HTML footnote links"),
    "word.py": ("_HEADING _NAME", "DOCX styles and paragraphs"),
}
#: names that question patterns and phrase tables have had: defined elsewhere, they are misplaced
QUESTION_PATTERN_NAMES = frozenset(
    """CITATION_PATTERNS METADATA_PATTERNS ASKS_AFFILIATION EXPECTS_NUMBER _WHY _COMPOUND _LOOK_THROUGH
    _LIST_VERBS _SAY_VERBS _HOW_NUMBER ENTITY_SKIP_WORDS NAME_RUN QUOTED_TITLE QUANTITY COUNT QUANTITY_FILLER
    FOLLOW_UP_START PERSON_PRONOUN THING_PRONOUN THAT_REFERENCE WHO_WROTE WH_WORDS META_WORDS ASKS_ABSENCE
    SEVERAL_DOCUMENTS _QUESTION_WORDS _ENTITY _QUOTED _QUANTITY _COUNT _FILLER _ELLIPTIC_START _PERSON
    _THING _THAT _WHO_WROTE _SEVERAL_DOCUMENTS _NEGATIVE_VERB ASKS_NUMBER _WHAT_NUMBER _COUNT_WORDS NOUN_CLASS
    _NOUN_CLASS LOOK_THROUGH LIST_VERBS SAY_VERBS PERSON_ENDINGS MEASURE_NOUNS _MEASURE ASKS_TITLE
    _DOCUMENT_NOUN QUESTION_FRAME""".split()  # noqa: SIM905
)
#: the names this code gives a question (or the query searched for) when it holds one
QUESTION_VARIABLES = frozenset({"question", "query", "q", "previous", "asked", "main", "questions"})
_REGEX_CALLS = frozenset({"search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split"})


def _modules() -> dict[str, str]:
    return {p.relative_to(PACKAGE).as_posix(): p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py")}


def _is_compile(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "compile"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "re"
    )


def _target_name(target: ast.expr) -> str:
    return (
        target.id
        if isinstance(target, ast.Name)
        else target.attr
        if isinstance(target, ast.Attribute)
        else ""
    )


def compiled_regexes(tree: ast.AST) -> set[str]:
    """The names regexes are compiled into, anywhere in the module ("<inline>": passed straight on)."""
    found: set[str] = set()
    assigned: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for inner in ast.walk(node.value):
                if _is_compile(inner):
                    assigned.add(id(inner))
                    found.update(_target_name(t) for t in targets)
    for node in ast.walk(tree):
        if _is_compile(node) and id(node) not in assigned:
            found.add("<inline>")
    return found


def _holds_question(node: ast.expr) -> bool:
    name = _target_name(node) if isinstance(node, ast.Name | ast.Attribute) else ""
    return name in QUESTION_VARIABLES


def problems(module: str, source: str) -> list[str]:
    """Why ``module`` (a path under the package) holds a question pattern, or [] when it holds none."""
    if module in QUESTION_MODULES:
        return []
    tree = ast.parse(source)
    out: list[str] = []
    regexes = compiled_regexes(tree)
    listed = set(OTHER_PATTERNS.get(module, ("", ""))[0].split())
    for name in sorted(regexes - listed):
        out.append(f"{module}: regex {name} is not listed (a question pattern goes to query_words.py)")
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out += [
                f"{module}: {_target_name(t)} is a question pattern's name"
                for t in targets
                if _target_name(t) in QUESTION_PATTERN_NAMES
            ]
    own = regexes | {"re"}  # this module's regexes, and re.search(r"…", …) written inline
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in _REGEX_CALLS or _target_name(node.func.value) not in own:
            continue
        if module == "aliases.py" and _target_name(node.func.value) in {"_RUN", "pattern"}:
            continue  # the catalog's document names, found in the question
        if any(_holds_question(a) for a in node.args):
            out.append(f"{module}:{node.lineno}: a regex of {module} is applied to a question")
    return out


def test_question_patterns_live_only_in_query_and_query_words() -> None:
    found = [p for module, source in sorted(_modules().items()) for p in problems(module, source)]
    assert found == []


def test_the_listed_regexes_exist() -> None:
    modules = _modules()
    for module, (names, _why) in OTHER_PATTERNS.items():
        assert module in modules, module
        assert set(names.split()) <= compiled_regexes(ast.parse(modules[module])), module


def test_a_question_pattern_planted_in_answer_py_is_caught() -> None:
    source = _modules()["answer.py"]
    assert problems("answer.py", source) == []
    named = source + '\n_WHY_NOT = re.compile(r"^why not\\b", re.I)\n'
    assert any("_WHY_NOT" in p for p in problems("answer.py", named))
    inline = source + '\n\ndef f(question):\n    return re.search(r"\\bhow many\\b", question)\n'
    assert any("applied to a question" in p for p in problems("answer.py", inline))
    reused = source + "\n\ndef g(plan):\n    return FRONT_MATTER.search(plan.question)\n"
    assert any("applied to a question" in p for p in problems("answer.py", reused))
    table = source + '\n_QUESTION_WORDS = frozenset({"what", "why"})\n'
    assert any("_QUESTION_WORDS" in p for p in problems("answer.py", table))
    assert problems("query_words.py", named) == []  # there it belongs
