"""Question understanding: one typed, frozen :class:`QueryPlan` per question, built here alone.

The plan holds what the later stages need to know about a question: its kind (citation, metadata,
general), the type of answer it expects, the head of its focus phrase ("commander" in "who was the
commander of …"), its named entities, and flags (why, compound, a number expected). Retrieval,
answer composition and abstention read the plan instead of matching the wording again.

The expected answer type is read from spaCy's dependency parse (the wh-word and the head noun of
the phrase it determines or asks about), not from phrasings of known questions: "which companies",
"the name of the diplomat", "in what year" and "how many troops" are typed by the class of their
head noun, whatever the rest of the sentence says. The noun classes below are general English
(people, organisations, places, times, measures, products), not words of this corpus.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .entities import load_pipeline
from .query_words import (
    LIST_VERBS,
    LOOK_THROUGH,
    MEASURE_NOUNS,
    NOUN_CLASS,
    PERSON_ENDINGS,
    SAY_VERBS,
)


class Kind(StrEnum):
    GENERAL = "general"
    CITATION = "citation"
    METADATA = "metadata"


class AnswerType(StrEnum):
    PERSON = "person"
    ORG = "org"
    PLACE = "place"
    DATE = "date"
    NUMBER = "number"  # count, amount, percentage, money, duration
    PRODUCT = "product"  # a weapon model, a system
    NAME = "name"  # the name of something the noun classes do not type ("the name of the exercise")
    QUOTE = "quote"  # what someone said
    REASON = "reason"
    LIST = "list"
    CITATION = "citation"
    RECORD = "record"  # who wrote it, where and when it was published
    DESCRIPTION = "description"


#: types whose answer is a named thing, a date or a figure: checked against the entities of sentences
ENTITY_TYPES = frozenset(
    {
        AnswerType.PERSON,
        AnswerType.ORG,
        AnswerType.PLACE,
        AnswerType.DATE,
        AnswerType.NUMBER,
        AnswerType.PRODUCT,
        AnswerType.NAME,
    }
)
#: the eval set's question types that correspond to answer types
EVAL_TYPE: dict[AnswerType, str] = {
    AnswerType.REASON: "why",
    AnswerType.LIST: "list",
    AnswerType.CITATION: "citation",
    AnswerType.RECORD: "metadata",
}
#: how an abstention names what was asked for
TYPE_NOUN: dict[AnswerType, str] = {
    AnswerType.PERSON: "a person's name",
    AnswerType.ORG: "an organisation or company",
    AnswerType.PLACE: "a place",
    AnswerType.DATE: "a date",
    AnswerType.NUMBER: "a figure",
    AnswerType.PRODUCT: "a model or system",
    AnswerType.NAME: "a name",
    AnswerType.QUOTE: "someone's words",
}


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NOUN_CLASS: dict[AnswerType, frozenset[str]] = {AnswerType(k): v for k, v in NOUN_CLASS.items()}
_COPULA = _set("is was are were be been")
_HOW_NUMBER = _set("many much long far large big old")

# -- wording patterns: the kinds of question whose answer is not a sentence about the subject ----
_SOURCE_NOUN = r"(?:sources?|stud(?:y|ies)|reports?|works?|research|publications?|papers?|books?|references?)"
# what a researcher calls the document itself ("the title of the paper", "the op-ed's headline")
_DOCUMENT_NOUN = r"(?:article|paper|piece|post|essay|op-ed|feature|commentary|analysis|publication)"
ASKS_TITLE = (
    rf"\b(?:title|headline)s?\b.*\b{_DOCUMENT_NOUN}\b|\b{_DOCUMENT_NOUN}'s (?:full )?(?:title|headline)\b"
)
CITATION_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bcit(?:e|es|ed|ing)\b",
        rf"\b(?:which|what|whose) (?:\w+ )?{_SOURCE_NOUN}\b.*\brel(?:y|ies|ied|ying) on\b",
        r"\brel(?:y|ies|ied|ying) on\b.*\bfor (?:the|this|that|his|her|its|their) (?:\w+ )?"
        r"(?:figure|claim|number|estimate|data|statistics?|account|statement|quote|assertion)\b",
        r"\b(?:foot|end)?notes?\b",
        r"\breferences?\b",
        rf"\b(?:which|what) {_SOURCE_NOUN}\b.*\b(?:does|did|do)\b",
        rf"\b(?:which|what|whose) (?:(?!funding)\w+ )?{_SOURCE_NOUN} "
        r"(?:back|support|underpin|substantiat|corroborat|document|ground|underl[iy])\w*",
        r"\bwhere (?:does|did) .* (?:take|get|draw|borrow) .* from\b",
        r"\bsource (?:for|of|behind) (?:that|this|these|those|the|his|her|its|their)\b",
    )
]
METADATA_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bwho (?:wrote|authored|is the author|are the authors)\b",
        r"\b(?:written|authored|published|appeared?|carried(?! out))\b"
        r".*\b(?:by|in|when|where|year|journal|website|blog)\b",
        r"\b(?:when|what date|what day|what year) was\b.*\b(?:published|written|posted|released)\b",
        r"\b(?:published|written|posted|released)\s*\?*\s*$",
        r"\b(?:which|what) (?:journal|website|site|outlet|venue|publisher|institution'?s? blog|blog)\b",
        r"\b(?:what|which) (?:type|kind|sort|form) of (?:publication|document|piece|text|writing)\b",
        r"\b(?:publication date|date of publication)\b",
        r"\b(?:affiliation|affiliated|funding|funded|editorial team|teach|teaches|professor)\b",
        r"\b(?:at|for|with|in) (?:which|what) (?:university|institute|faculty|department|college)\b",
        # whom the author thanks, not a thanking the article reports ("what did he say when he thanked …")
        r"\bwhom?\b.*\b(?:thank|thanks|thanked|acknowledge[sd]?)\b|\bgrateful\b|\backnowledge?ments?\b",
        r"\bwho is the author\b",
        ASKS_TITLE,
    )
]
ASKS_AFFILIATION = re.compile(
    r"\b(?:affiliat\w*|universit\w*|institut\w*|faculty|department|college|professor|teach\w*"
    r"|(?:where|for whom|for which \w+) (?:does|did) (?:the author|\w+) work)\b",
    re.IGNORECASE,
)
# which fields of the catalog record a metadata question asks for
RECORD_FIELDS: dict[str, re.Pattern[str]] = {
    "authors": re.compile(
        r"\bwho (?:wrote|authored|is the author|are the authors)\b|\b(?:written|authored) by\b", re.I
    ),
    "venue": re.compile(
        r"\b(?:which|what) (?:journal|website|site|outlet|venue|publisher|blog)\b"
        r"|\bwhere was\b.*\bpublished\b",
        re.I,
    ),
    "title": re.compile(ASKS_TITLE, re.I),
    "date": re.compile(
        r"\b(?:when|what date|what day|what year|which year)\b.*\b(?:published|written|posted)\b", re.I
    ),
}


def asked_record_fields(question: str) -> set[str]:
    """The record fields a metadata question asks for (authors, venue, date); empty when unsure."""
    return {name for name, pattern in RECORD_FIELDS.items() if pattern.search(main_question(question))}


# -- asking for a number: one vocabulary and one pattern for the plan, the parse and the focus check --
#: the nouns that ask for a number after "what" ("what share", "what year"); the words after "how"
#: are :data:`_HOW_NUMBER`, which the parse reads too
_WHAT_NUMBER = _set("year percentage share proportion rate number amount")
#: of those, the ones whose answer is a count or a share (a year is not)
_COUNT_WORDS = _set("many much percentage share proportion")
#: a question asking for a number ("how many", "what share", "in which year"); ``rest``: what follows
ASKS_NUMBER = re.compile(
    rf"\b(?:how\s+(?P<how>{'|'.join(sorted(_HOW_NUMBER))})|what\s+(?P<what>{'|'.join(sorted(_WHAT_NUMBER))})"
    r"|in\s+(?:what|which)\s+year)\b\s*(?P<rest>.*)",
    re.IGNORECASE,
)


def asks_number(question: str) -> bool:
    """The question asks for a number anywhere in it (the plan's ``expects_number``)."""
    return ASKS_NUMBER.search(question) is not None


def opening_quantity(question: str) -> tuple[bool, str] | None:
    """For a question that *opens* by asking for a number: whether it asks for a count or a share
    (not a year, a length or a size), and the words after the phrase ("how many drones …" →
    "drones …"); None for any other question. The quantity focus check of ``focus.py`` reads it."""
    m = ASKS_NUMBER.match(question.lstrip())
    if m is None:
        return None
    return (m["how"] or m["what"] or "").lower() in _COUNT_WORDS, m["rest"]


_WHY = re.compile(
    r"^\s*(?:and\s+)?(?:why|what (?:reasons?|motives?|explains)|for what reason|how come)\b", re.I
)
_COMPOUND = re.compile(r"\b(?:differ|differences?|compare|comparison|contrast)\b|,\s*and\s+\w+", re.I)

#: how rewrite.py marks the earlier question carried along with a follow-up
CONTEXT_LABEL = "follow-up to:"


def split_context(query: str) -> tuple[str, str]:
    """A rewritten follow-up as (the question actually asked, the earlier question it carries)."""
    cut = query.find(f" ({CONTEXT_LABEL} ")
    if cut < 0:
        return query, ""
    context = query[cut + len(CONTEXT_LABEL) + 3 :]
    return query[:cut], context.removesuffix(")")  # only the label's own parenthesis


def main_question(query: str) -> str:
    """A rewritten follow-up without the context it carries (the question actually asked)."""
    return split_context(query)[0]


def question_kind(question: str) -> str:
    """``citation``, ``metadata`` or ``general``, from the wording of the question (context ignored)."""
    question = main_question(question)
    if any(p.search(question) for p in CITATION_PATTERNS):
        return Kind.CITATION.value
    if any(p.search(question) for p in METADATA_PATTERNS):
        return Kind.METADATA.value
    return Kind.GENERAL.value


def is_why(question: str) -> bool:
    return bool(_WHY.search(question)) or bool(re.search(r"\bwhy\b", question, re.I))


def is_compound(question: str) -> bool:
    return bool(_COMPOUND.search(question))


@dataclass(frozen=True)
class QueryPlan:
    """What a question asks, read once; every later stage reads this instead of the wording."""

    question: str  # the question asked (a follow-up without its context)
    context: str  # the earlier question a follow-up carries ("" when none)
    kind: Kind
    answer_type: AnswerType
    focus: str  # head noun of the focus phrase ("commander"), "" when none
    entities: tuple[tuple[str, str], ...]  # (text, "PROPN"): the question's runs of proper nouns
    why: bool
    compound: bool
    expects_number: bool

    @property
    def query(self) -> str:
        """The text to search with: the question and the context it carries."""
        return f"{self.question} ({CONTEXT_LABEL} {self.context})" if self.context else self.question

    @property
    def typed(self) -> bool:
        """The answer is a named thing, a date or a figure (checked against sentence entities)."""
        return self.answer_type in ENTITY_TYPES


def plan(query: str, spacy_model: str) -> QueryPlan:
    """The plan of ``query`` (a question, or a rewritten follow-up carrying its context)."""
    return _plan(query, spacy_model)


@functools.lru_cache(maxsize=4096)
def _plan(query: str, spacy_model: str) -> QueryPlan:
    question, context = split_context(query)
    kind = Kind(question_kind(question))
    doc = load_pipeline(spacy_model, for_questions=True)(question)
    answer_type, focus = _answer_type(doc, kind, question)
    ents = _proper_noun_runs(doc)
    return QueryPlan(
        question=question,
        context=context,
        kind=kind,
        answer_type=answer_type,
        focus=focus,
        entities=ents,
        why=is_why(question),
        compound=is_compound(question),
        expects_number=asks_number(question),
    )


def _answer_type(doc: Any, kind: Kind, question: str) -> tuple[AnswerType, str]:
    """The expected answer type and the focus noun, from the wh-word and the head of its phrase."""
    if kind is Kind.CITATION:
        return AnswerType.CITATION, ""
    if kind is Kind.METADATA:
        return AnswerType.RECORD, ""
    if is_why(question):
        return AnswerType.REASON, ""
    tokens = list(doc)
    first = tokens[0].lower_ if tokens else ""
    if first in LIST_VERBS:  # "List the …", "Name the general who …": the object's class, else a list
        head = _first_noun(tokens[1:])
        if head is None:
            return AnswerType.LIST, ""
        head, typed = _typed_head(head)
        return typed or AnswerType.LIST, head.lower_
    # the question's own wh-word, not a relative pronoun ("… the diplomat who negotiated …")
    wh = next((t for t in tokens if t.tag_ in ("WDT", "WP", "WP$", "WRB") and t.head.dep_ != "relcl"), None)
    if wh is None:
        return AnswerType.DESCRIPTION, ""
    word = wh.lower_
    after = [t for t in tokens if t.i > wh.i]
    if word == "how":
        nxt = after[0].lower_ if after else ""
        if nxt in _HOW_NUMBER:  # the counted noun ("how many Iranian-owned companies"), if any
            head = next((t for t in after[1:6] if t.pos_ == "NOUN" and t.dep_ != "compound"), None)
            counted = nxt in ("many", "much") and head is not None
            return AnswerType.NUMBER, head.lower_ if counted and head is not None else ""
        return AnswerType.DESCRIPTION, ""
    if word == "when":
        return AnswerType.DATE, ""
    if word == "where":
        return AnswerType.PLACE, ""
    if word in ("who", "whom"):  # "who was the commander of …": the noun it equates the person with
        head = _first_noun(after) if wh.head.lower_ in _COPULA else None
        return AnswerType.PERSON, head.lower_ if head is not None else ""
    if word == "what" and wh.head.lower_ in SAY_VERBS:  # "what did the minister say about …"
        return AnswerType.QUOTE, ""
    # what / which / whose: the noun the wh-word determines, else the first noun after it
    head = wh.head if wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN") else _first_noun(after)
    if head is None:
        return AnswerType.DESCRIPTION, ""
    head, typed = _typed_head(head)
    if typed is AnswerType.NUMBER and head.lower_ in MEASURE_NOUNS:
        # "what share of Azerbaijan's arms": a figure, found beside what it measures ("arms")
        return typed, _through(head, MEASURE_NOUNS).lower_
    if typed is not None:
        return typed, head.lower_
    if word == "whose":
        return AnswerType.PERSON, head.lower_
    if head.tag_ == "NNS" and wh.dep_ == "det":  # "which measures …", "what steps …"
        return AnswerType.LIST, head.lower_
    return AnswerType.DESCRIPTION, head.lower_


def _proper_noun_runs(doc: Any) -> tuple[tuple[str, str], ...]:
    """The question's named things: runs of proper nouns in the parse ("Moscow", "Revolutionary Guards")."""
    runs: list[list[Any]] = []
    for t in doc:
        if t.pos_ == "PROPN":
            if runs and runs[-1][-1].i == t.i - 1:
                runs[-1].append(t)
            else:
                runs.append([t])
    return tuple((doc[r[0].i : r[-1].i + 1].text, "PROPN") for r in runs)


def _first_noun(tokens: list[Any]) -> Any:
    first = next((t for t in tokens if t.pos_ in ("NOUN", "PROPN") and t.dep_ != "compound"), None)
    # a modifier is not the head of its phrase ("which lobbying firm": "firm", not "lobbying")
    while first is not None and first.dep_ in ("amod", "nmod", "compound") and first.head.i > first.i:
        if first.head.pos_ not in ("NOUN", "PROPN"):
            break
        first = first.head
    return first


def _typed_head(head: Any) -> tuple[Any, AnswerType | None]:
    """The head after looking through "the name of", and its type: a name whose complement the
    classes do not type is still a name ("the name of the exercise")."""
    start = head
    head = _through(head)
    typed = _noun_type(head)
    if typed is None and head is not start and _noun_type(start) is AnswerType.NAME:
        typed = AnswerType.NAME
    return head, typed


def _through(head: Any, nouns: frozenset[str] = LOOK_THROUGH) -> Any:
    """From a look-through noun ("name", "kind") to its ``of`` complement, when it has one."""
    for _ in range(2):
        if head.lower_ not in nouns:
            return head
        prep = next((c for c in head.children if c.dep_ == "prep" and c.lower_ == "of"), None)
        obj = next((c for c in prep.children if c.dep_ == "pobj"), None) if prep is not None else None
        if obj is None:
            return head
        head = obj
    return head


def _noun_type(token: Any) -> AnswerType | None:
    word = token.lower_
    for answer_type, nouns in _NOUN_CLASS.items():
        if word in nouns:
            return answer_type
    if token.pos_ == "NOUN" and any(
        word.endswith(end) and len(word) > len(end) + 3 for end in PERSON_ENDINGS
    ):
        return AnswerType.PERSON
    return None
