"""Text repair: mojibake, Unicode normalisation, and the line-level joins that parse uses.

``clean_text`` = ``repair_mojibake`` then ``normalize_unicode``. Both are pure and deterministic.

Mojibake. ftfy repairs UTF-8 that was decoded as a single-byte code page (latin-1, cp1252, ...), and we
call it for that. It does not know multi-byte code pages: UTF-8 punctuation decoded as GBK
(``Israel鈥檚`` = ``Israel’s``) is left as is, so that repair is written here
(:func:`repair_gbk_mojibake`). A UTF-8 character ``E2 80 xx`` decoded as GBK gives ``鈥`` (= E2 80)
and the byte ``xx`` pairs with the next ASCII character into one GBK character (``檚`` = 99 73 =
``’`` + ``s``); encoding such runs back to GBK and decoding the bytes as UTF-8 restores them. Where the
pair was not valid GBK the decoder dropped a byte; the missing character is inferred from context
(opening or closing quote, apostrophe, a dash in a number range). A run is only replaced when the
result is plausible Latin text, so real Chinese text is never touched.

Injected spam. The scraped Wilson Center page had the site name "Wilson" replaced by a spam token
(``Woodrow 浪花直播 International Center for Scholars``); :data:`SPAM_SUBSTITUTIONS` restores it.
"""

from __future__ import annotations

import re
import unicodedata

import ftfy

__all__ = [
    "FUNCTION_WORDS",
    "SPAM_SUBSTITUTIONS",
    "clean_text",
    "continues",
    "dehyphenate",
    "is_open",
    "join_fragments",
    "normalize_unicode",
    "repair_gbk_mojibake",
    "repair_mojibake",
    "unwrap_markdown",
]

# Spam tokens injected by a scraped site in place of a word, and the word they replaced. Restoring
# "Wilson" is safe: both occurrences stand where the Wilson Center names itself ("Woodrow Wilson
# International Center for Scholars", "Wilson’s Middle East Program").
SPAM_SUBSTITUTIONS: dict[str, str] = {"浪花直播": "Wilson"}

_FTFY_CONFIG = ftfy.TextFixerConfig(
    unescape_html=False,  # "&" in titles is text, and HTML is handled by the loader
    uncurl_quotes=False,  # keep typographic quotes: they are the source's
    fix_latin_ligatures=False,
    fix_character_width=False,  # fullwidth forms may be meaningful in other scripts
    normalization="NFC",
    explain=False,
)

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CONT = range(0x80, 0xC0)
# third bytes of E2 80 xx seen in English punctuation: – — ‘ ’ “ ” …
_PUNCT_THIRD = {0x93, 0x94, 0x98, 0x99, 0x9C, 0x9D, 0xA6}


def _plausible(s: str) -> bool:
    """True when a repaired run reads as Latin-script text and punctuation (no CJK, no controls)."""
    for ch in s:
        cat = unicodedata.category(ch)
        # a superscript or fraction would be read as a footnote marker: one CJK character next to a
        # digit ("0鲁" -> "0³") is more likely text than mojibake, and an invented marker costs more
        if cat.startswith("C") or cat == "No" or _CJK_RUN.match(ch):
            return False
        if ord(ch) > 0x2FF and not (0x2000 <= ord(ch) <= 0x206F or 0x2200 <= ord(ch) <= 0x22FF):
            return False
    return True


def _infer_e280(prev: str, nxt: str, quote_open: bool) -> str:
    """The character ``E2 80 ??`` whose third byte was lost, from the characters around it."""
    if (not prev or prev.isspace()) and nxt and not nxt.isspace():
        return "\u201c"  # opening quote
    if prev.isdigit() and nxt.isdigit():
        return "\u2013"
    if quote_open:
        return "\u201d"
    if not prev or prev.isspace():
        return "\u2014"
    return "\u2019"  # apostrophe: Corps’, Iranians’


def _decode_run(data: bytes, prev: str, nxt: str, quote_open: bool) -> str | None:
    """Lenient UTF-8 decode of GBK-encoded mojibake, inferring bytes GBK decoding dropped."""
    out: list[str] = []
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            out.append(chr(b))
            i += 1
        elif 0xC2 <= b <= 0xDF and i + 1 < n and data[i + 1] in _CONT:
            out.append(data[i : i + 2].decode("utf-8"))
            i += 2
        elif 0xE0 <= b <= 0xEF and i + 2 < n and data[i + 1] in _CONT and data[i + 2] in _CONT:
            out.append(data[i : i + 3].decode("utf-8", errors="strict"))
            i += 3
        elif b == 0xE2 and i + 1 < n and data[i + 1] in (0x80, 0x88):
            # third byte lost: it could not pair with the following ASCII character in GBK
            before = out[-1] if out else prev
            after = chr(data[i + 2]) if i + 2 < n else nxt
            if data[i + 1] == 0x88:  # E2 88 92 MINUS SIGN; in a number range read as an en dash
                out.append("\u2013" if before.isdigit() and after.isdigit() else "\u2212")
            else:
                is_open = quote_open or "\u201c" in "".join(out)
                out.append(_infer_e280(before, after, is_open))
            i += 2
        elif b == 0xE2 and i + 1 < n and data[i + 1] in _PUNCT_THIRD:
            # middle byte 0x80 lost: it fell in a GBK lead position, where 0x80 is invalid
            out.append(bytes([0xE2, 0x80, data[i + 1]]).decode("utf-8"))
            i += 2
        else:
            return None
    return "".join(out)


def repair_gbk_mojibake(text: str) -> str:
    """Undo UTF-8 text that was decoded as GBK, leaving genuine CJK text alone."""
    if not _CJK_RUN.search(text):
        return text
    lines = text.split("\n")
    for k, line in enumerate(lines):
        if not _CJK_RUN.search(line):
            continue
        out: list[str] = []
        pos = 0
        for m in _CJK_RUN.finditer(line):
            out.append(line[pos : m.start()])
            done = "".join(out)
            prev = done[-1:] if done else ""
            nxt = line[m.end() : m.end() + 1]
            quote_open = done.count("\u201c") > done.count("\u201d")
            try:
                data = m.group().encode("gbk")
            except UnicodeEncodeError:
                data = b""
            fixed = _decode_run(data, prev, nxt, quote_open) if data else None
            out.append(fixed if fixed is not None and _plausible(fixed) else m.group())
            pos = m.end()
        out.append(line[pos:])
        lines[k] = "".join(out)
    return "\n".join(lines)


def repair_mojibake(text: str) -> str:
    """Spam tokens, UTF-8-as-GBK, then ftfy for UTF-8 decoded as a single-byte code page."""
    for token, word in SPAM_SUBSTITUTIONS.items():
        text = text.replace(token, word)
    text = repair_gbk_mojibake(text)
    return ftfy.fix_text(text, _FTFY_CONFIG)


_ODD_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u00ad\u180e\u200b-\u200d\u2060\ufeff]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def normalize_unicode(text: str) -> str:
    """CRLF/CR → LF, NFC, odd spaces → space, zero-width and control characters (not \\n, \\t) removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    text = unicodedata.normalize("NFC", text)
    text = _ODD_SPACES.sub(" ", text)
    text = _INVISIBLE.sub("", text)
    return _CONTROLS.sub("", text)


def clean_text(raw: str) -> str:
    """Repair mojibake and normalise Unicode; line structure is kept (parse needs it)."""
    return normalize_unicode(repair_mojibake(raw))


# ---------------------------------------------------------------------------------------------------
# line-level joins


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Prefixes that keep their hyphen when a line break falls after them (pro-Western, self-reliance).
_HYPHEN_PREFIXES = _words(
    "anti co counter cross ex full half high long low multi neo non pan post pre pro quasi self "
    "semi short so ultra well"
)
FUNCTION_WORDS = _words(
    "a an the of to in on at by for from with without into onto over under between among and or "
    "nor but that which who whom whose what when where while as than its their his her our your "
    "this these those is are was were be been being has have had will would can could may might "
    "must should not no very more most such both either neither each every all any some"
)
_TERMINAL = re.compile(r"[.!?:…][\"'”’)\]»]*$|[\"”]$")
_WORD_HYPHEN_END = re.compile(r"([^\W\d_]+)-$")
_LEADING_WORD = re.compile(r"^([^\W\d_][\w'’]*)")
_CAPS_BREAK = re.compile(r"\b([A-Z]{2,})- ([A-Z][A-Z'’]*)\b")


def _keep_hyphen(stem: str, following: str, vocabulary: frozenset[str] | set[str]) -> bool:
    if stem.isupper() and len(stem) > 1 and following[:1].isupper() and following.upper() == following:
        return False  # AZERBAI- JAN'S: both halves of one capitalised word
    if following[:1].isupper():
        return True  # pro-Western, Russo-Iranian
    joined, hyphened = (stem + following).lower(), f"{stem}-{following}".lower()
    if hyphened in vocabulary and joined not in vocabulary:
        return True
    if joined in vocabulary:
        return False
    return stem.lower() in _HYPHEN_PREFIXES


def join_fragments(left: str, right: str, vocabulary: frozenset[str] | set[str] = frozenset()) -> str:
    """Join two pieces of one sentence; a word hyphenated across the break is rejoined.

    ``be-`` + ``lieve`` → ``believe``; ``pro-`` + ``Western`` → ``pro-Western``. ``vocabulary`` (lowercase
    words of the document) settles the rest: a hyphenated form seen elsewhere keeps its hyphen.
    """
    left, right = left.rstrip(), right.lstrip()
    if not left or not right:
        return left + right
    m = _WORD_HYPHEN_END.search(left)
    nxt = _LEADING_WORD.match(right)
    if m and nxt and not left.endswith("--"):
        if _keep_hyphen(m.group(1), nxt.group(1).rstrip("'’"), vocabulary):
            return left + right
        return left[:-1] + right
    return f"{left} {right}"


def dehyphenate(text: str, vocabulary: frozenset[str] | set[str] = frozenset()) -> str:
    """Rejoin words broken by a line break (``be-\\nlieve``) and capitalised ``AZERBAI- JAN'S``."""
    text = _CAPS_BREAK.sub(lambda m: m.group(1) + m.group(2), text)
    if "-\n" not in text:
        return text
    parts = text.split("\n")
    out = parts[0]
    for part in parts[1:]:
        if _WORD_HYPHEN_END.search(out) and part.strip():
            out = join_fragments(out, part, vocabulary)
        else:
            out = f"{out}\n{part}"
    return out


def is_open(text: str) -> bool:
    """True when ``text`` stops mid-sentence (no terminal punctuation at its end)."""
    stripped = text.rstrip()
    return bool(stripped) and not _TERMINAL.search(stripped)


def continues(previous: str, following: str, *, min_words: int = 20) -> bool:
    """Whether ``following`` carries on the sentence that ``previous`` left open.

    True when ``previous`` is open and either ``following`` starts in lowercase, ``previous`` ends on a
    comma, dash, hyphen or function word, or ``previous`` is long prose (a short open block is more
    likely a caption or a label than a broken sentence).
    """
    if not is_open(previous) or not following.strip():
        return False
    prev, nxt = previous.rstrip(), following.lstrip()
    if nxt[0].islower():
        return True
    if prev[-1] in ",;-–—(":
        return True
    last = re.findall(r"[\w'’]+", prev[-40:])
    if last and last[-1].lower() in FUNCTION_WORDS:
        return True
    return len(prev.split()) >= min_words


# ---------------------------------------------------------------------------------------------------
# markdown residue in plain-text extractions

_MD_LINK = re.compile(r"(?<!!)\[([^\]]+)\]\((?:[^()\s]|\([^()\s]*\))+\)")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_BOLD = re.compile(r"(?<![\w*])(\*\*|__)(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_MD_EM = re.compile(r"(?<![\w*])([*_])(?=[^\s*_])(.+?)(?<=[^\s*_])\1(?![\w*])")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!$|<>~])")
_MD_STRAY_STAR = re.compile(r"(?<=\w)\*+(?![\w*])|(?<![\w*])\*+(?=\w)")
_ANGLE_URL = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")


def unwrap_markdown(text: str) -> str:
    """Inline markdown to plain text: ``[text](url)`` → text, ``*em*``/``**bold**`` unwrapped,
    ``<https://…>`` → the URL, backslash escapes (``\\$``) resolved. No markdown library is used: a full
    renderer would also reinterpret the ``-``/``#``/``1.`` line starts that parse already classified."""
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(lambda m: m.group(1), text)
    text = _ANGLE_URL.sub(lambda m: m.group(1), text)
    for _ in range(2):  # nested ***x***
        text = _MD_BOLD.sub(lambda m: m.group(2), text)
        text = _MD_EM.sub(lambda m: m.group(2), text)
    text = _MD_STRAY_STAR.sub("", text)  # "*Anadolu" + "Agency*": emphasis broken across lines
    return _MD_ESCAPE.sub(lambda m: m.group(1), text)
