"""Does any retrieved passage speak of what the question is about? Two checks for abstention.

Near-miss questions ("How many drones did Iran deliver to Russia in 2022?", "What position has
Kazakhstan taken on the Zangezur corridor?") retrieve on-topic passages that score well on
similarity and word overlap; what they lack is the question's *focus*:

* **entities** — the named actors and places of the question, after mapping capitals and demonyms
  to their country (Tehran, Iranian → Iran), must all occur together in one passage;
* **quantities** — a "how many / how much / what percentage / what year / how long" question needs a
  sentence that has a number *and* one of the words the number would count. For a count ("how
  many drones …") the number must stand within :data:`COUNT_WINDOW` words of the counted word, and
  a year is not that number: "an attack in January 2023 was carried out by drones" or "70 percent
  of its equipment, including drones" do not say how many drones.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Collection, Container, Sequence

from .chunk import sentence_spans
from .query import opening_quantity
from .query_words import ENTITY_SKIP_WORDS, NAME_RUN, QUANTITY_FILLER, QUOTED_TITLE

# Capitals, demonyms and short forms of the actors this corpus is about, mapped to one key.
ALIASES: dict[str, str] = {
    **dict.fromkeys(["tehran", "iranian", "iranians", "persian", "islamic republic"], "iran"),
    **dict.fromkeys(["baku", "azerbaijani", "azerbaijanis", "azeri", "azeris", "aliyev"], "azerbaijan"),
    **dict.fromkeys(["yerevan", "armenian", "armenians", "pashinyan"], "armenia"),
    **dict.fromkeys(["ankara", "turkish", "turks", "türkiye", "turkiye", "erdogan", "erdoğan"], "turkey"),
    **dict.fromkeys(["moscow", "russian", "russians", "kremlin", "putin"], "russia"),
    **dict.fromkeys(["jerusalem", "tel aviv", "israeli", "israelis", "jewish state"], "israel"),
    **dict.fromkeys(["washington", "american", "americans", "u.s.", "us", "usa"], "united states"),
    **dict.fromkeys(["tbilisi", "georgian", "georgians"], "georgia"),
    **dict.fromkeys(["beijing", "chinese"], "china"),
    **dict.fromkeys(["paris", "french"], "france"),
    **dict.fromkeys(["new delhi", "delhi", "indian"], "india"),
    **dict.fromkeys(["russo"], "russia"),
    **dict.fromkeys(["karabakh", "nagorno-karabakh", "artsakh"], "karabakh"),
    **dict.fromkeys(["nakhichevan", "nakhchivan"], "nakhichevan"),
}
# the question's wording is read with the patterns of query.py and query_words.py; these read passage
# sentences. NUMBER is the package's one "holds a number" pattern (answer.py imports it too).
NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|(?:dozen|hundred|thousand|million|billion)s?"
    r"|half|double|twice|percent)\b",
    re.I,
)
COUNT_WINDOW = 4  # words between a count and what it counts ("some 200 Israeli military advisers")
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d(?:s|['’]s)?\b")
_WORD = re.compile(r"[^\W\d_][\w\-’']*")


def _key(term: str) -> str:
    t = term.lower().removesuffix("'s").removesuffix("’s")
    return ALIASES.get(t, t)


def _words(text: str) -> list[str]:
    """Lower-case words, possessives dropped, hyphenated compounds split (US-Azerbaijan → us, azerbaijan)."""
    out: list[str] = []
    for w in _WORD.findall(text):
        out.extend(p for p in w.lower().removesuffix("'s").removesuffix("’s").split("-") if p)
    return out


_MULTIWORD = tuple((k, v) for k, v in ALIASES.items() if " " in k)


@functools.lru_cache(maxsize=1 << 14)  # the sentences of a corpus recur from question to question
def keys_in(text: str) -> frozenset[str]:
    words = _words(text)
    keys = {ALIASES.get(w, w) for w in words}
    low = text.lower()
    keys |= {v for k, v in _MULTIWORD if k in low}
    keys |= {f"{a} {b}" for a, b in itertools.pairwise(words)}  # two-word names
    return frozenset(keys)


def question_entities(question: str, ignore: Container[str] = frozenset()) -> set[str]:
    """Named things in the question (not its first word, quoted titles or document names), as keys.

    ``ignore``: lower-case document names (author names, venues), a set built once per corpus.
    """
    found: set[str] = set()
    question = QUOTED_TITLE.sub(" ", question)
    for m in NAME_RUN.finditer(question):
        if m.start() == 0:
            # the first word is capitalised anyway; keep what follows it, if it is a name too
            rest = m.group().split(None, 1)
            if len(rest) < 2:
                continue
            name = rest[1]
        else:
            name = m.group()
        words = [w for w in name.split() if w.lower() not in ENTITY_SKIP_WORDS]
        if not words or all(w.lower() in ignore for w in words):
            continue
        phrase = " ".join(w for w in words if w.lower() not in ignore)
        if _key(phrase) != phrase.lower():  # a known multi-word alias ("New Delhi")
            found.add(_key(phrase))
            continue
        for part in phrase.split():
            found.update(_key(p) for p in _words(part))
    return found


def entities_supported(
    question: str,
    passages: Sequence[str],
    ignore: Container[str] = frozenset(),
    wanted: Collection[str] | None = None,
) -> bool:
    """All the question's named things occur together in at least one passage (``wanted``: those
    things when the caller has found them already)."""
    wanted = question_entities(question, ignore) if wanted is None else wanted
    if not wanted:
        return True
    for text in passages:
        keys = keys_in(text)
        if all(w in keys or all(p in keys for p in w.split()) for w in wanted):
            return True
    return False


def quantity_focus(question: str) -> list[str]:
    """For a quantity question, the word a number would count: the head of the phrase after "how many"
    ("how many Israeli military advisers are …" → advisers), as a crude five-letter stem."""
    asked = opening_quantity(question)
    if asked is None:
        return []
    run: list[str] = []
    for w in _WORD.findall(asked[1])[:5]:
        if w.lower() in QUANTITY_FILLER:
            break
        run.append(w.lower())
    if not run:
        return []
    plural = [w for w in run if w.endswith("s") and len(w) > 3]  # the counted noun, not a verb after it
    return [(plural[-1] if plural else run[-1])[:5]]


def quantity_supported(question: str, passages: Sequence[str]) -> bool:
    """A quantity question has a sentence with a number and one of its focus words."""
    asked = opening_quantity(question)
    if asked is None:
        return True
    count, focus = asked[0], quantity_focus(question)
    for text in passages:
        for a, b in sentence_spans(text):
            sent = text[a:b]
            if count and focus:
                if _counts(sent, focus):
                    return True
                continue
            if not NUMBER.search(_YEAR.sub(" ", sent) if count else sent):
                continue
            words = {w.lower()[:5] for w in _WORD.findall(sent)}
            if not focus or any(f in words for f in focus):
                return True
    return False


def _counts(sentence: str, focus: Sequence[str]) -> bool:
    """A number (not a year) within :data:`COUNT_WINDOW` words of a focus word."""
    tokens = _YEAR.sub(" ", sentence).split()
    numbers = [i for i, t in enumerate(tokens) if NUMBER.search(t)]
    targets = [i for i, t in enumerate(tokens) for w in _WORD.findall(t)[:1] if w.lower()[:5] in focus]
    return any(abs(i - j) <= COUNT_WINDOW for i in numbers for j in targets)
