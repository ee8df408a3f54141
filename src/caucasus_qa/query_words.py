"""The question patterns and phrase tables that the stages apply to a question's wording.

With :mod:`caucasus_qa.query` this is the one place that reads how a question is phrased: the
plan's kind and answer type are built in ``query.py``; the patterns here are the ones that other
stages match against the question (or a follow-up, or the query retrieval searches for):

* answer typing (:mod:`caucasus_qa.query`): the head nouns of each answer type, and the nouns and
  verbs the parse looks through;
* focus checks (:mod:`caucasus_qa.focus`): the named things and the counted thing of a question;
* follow-up detection (:mod:`caucasus_qa.rewrite`): ellipsis, pronouns, demonstratives;
* coverage (:mod:`caucasus_qa.lexicon`): the words that describe the question or article, not its subject;
* answer features (:mod:`caucasus_qa.features`): a question that asks about an absence;
* retrieval (:mod:`caucasus_qa.retrieve`): a question about what several documents say, and the
  question with the document names it points at removed.

Patterns that read passages, sentences or files stay with the code that reads them. This module
imports nothing of the project, so any module may import it. ``tests/test_pattern_placement.py``
fails when a question pattern appears anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


def _set(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# --- query.py: the classes of the head nouns that type an answer ----------------------------------

# Head nouns by the class of thing they name (singular and plural; the question parse has no lemmas).
NOUN_CLASS: dict[str, frozenset[str]] = {  # keyed by query.AnswerType's values
    "person": _set(
        """person persons people man men woman women individual individuals leader leaders commander
        commanders minister ministers president presidents official officials diplomat diplomats general
        generals spokesman spokesperson spokeswoman ambassador ambassadors envoy envoys chief chiefs head
        officer officers analyst analysts scholar scholars expert experts journalist journalists politician
        politicians negotiator negotiators mediator mediators representative representatives adviser
        advisers advisor advisors agent agents founder founders director directors governor governors
        ruler rulers cleric clerics soldier soldiers gunman gunmen attacker attackers assassin killer
        perpetrator perpetrators suspect suspects victim victims owner owners executive executives
        chairman chairwoman secretary deputy deputies member members premier lawmaker lawmakers senator
        senators successor predecessor consul consuls whom who"""
    ),
    "org": _set(
        """company companies firm firms corporation corporations organization organizations organisation
        organisations group groups agency agencies institution institutions party parties bank banks
        ministry ministries manufacturer manufacturers contractor contractors supplier suppliers producer
        producers operator operators conglomerate consortium enterprise enterprises militia militias
        movement movements network networks newspaper newspapers outlet outlets channel channels
        university universities institute institutes unit units service services"""
    ),
    "place": _set(
        """city cities town towns village villages country countries state states nation nations region
        regions province provinces district districts territory territories area areas place places
        location locations site sites port ports base bases border borders capital capitals island
        islands airport airports airfield airfields facility facilities field fields corridor corridors
        enclave exclave river rivers sea seas mountain mountains valley valleys where"""
    ),
    "date": _set("year years month months day days date dates decade decades century time when"),
    "number": _set(
        """number numbers percentage percentages percent share proportion amount amounts figure figures
        sum total quantity count cost costs price prices value volume rate size budget population level
        levels worth"""
    ),
    "product": _set(
        """model models system systems weapon weapons drone drones missile missiles aircraft plane planes
        jet jets tank tanks rifle rifles vehicle vehicles munition munitions brand variant ship ships vessel
        vessels tanker tankers warship warships helicopter helicopters satellite satellites"""
    ),
    # what someone said: "what exact words did the minister use"
    "quote": _set("words wording remark remarks statement statements slogan slogans quote"),
    # named undertakings and texts: "which exercise", "which agreement" asks for its name
    "name": _set(
        """name names title titles codename nickname operation operations exercise exercises drill drills
        treaty treaties agreement agreements accord accords initiative initiatives project projects
        programme programmes program programs"""
    ),
}
# A noun is also typed by its ending when no class lists it: "businessmen", "activist", "technician".
PERSON_ENDINGS = ("man", "men", "woman", "women", "person", "people", "ist", "ists", "ian", "ians")
# Nouns that only point at their complement: "the name of the diplomat", "what kind of drones".
LOOK_THROUGH = _set("name names identity kind kinds type types sort form one ones exact precise")
# measures whose ``of`` complement is what the figure is found beside ("the share of its arms")
MEASURE_NOUNS = _set(
    "share percentage proportion number amount figure part portion fraction total volume value"
)
LIST_VERBS = _set("list name enumerate identify mention outline give")
SAY_VERBS = _set("say said says state stated declare declared tell told remark remarked quote quoted")


# --- focus.py: named things and the counted phrase (whether a question asks for a number at all is
# query.py's ASKS_NUMBER) ----------------------------------------------------------------------------
#: words of a capitalised run that are not a name ("What", "In", "Does" at a question's start)
ENTITY_SKIP_WORDS = _set(
    """what which who whom whose when where why how does do did is are was were has have had can
    could should would will according in on of the a an and or to for from by with"""
)
#: a run of capitalised words (with "of"/"for" inside: "Ministry of Defence") or an acronym
NAME_RUN = re.compile(r"\b(?:[A-Z][\w\-]*(?:\s+(?:of\s+|for\s+)?[A-Z][\w\-]*)*|[A-Z]{2,}s?)\b")
#: a quoted title in a question: its words are not the question's named things
QUOTED_TITLE = re.compile(r"[“\"][^”\"]*[”\"]")
#: words that end the counted phrase after "how many" ("how many troops *are* …")
QUANTITY_FILLER = _set(
    """still currently now live remain remained did does do is are was were has have had the a an of in on to
    by for per each every"""
)

# --- rewrite.py: does a question lean on an earlier turn? -----------------------------------------
FOLLOW_UP_START = re.compile(
    r"^\s*(?:and|but|also|so|then|what about|how about|what of|and what about|same for|likewise)\b",
    re.IGNORECASE,
)
PERSON_PRONOUN = re.compile(r"\b(he|she|him|his|her|hers|himself|herself)\b", re.IGNORECASE)
THING_PRONOUN = re.compile(r"\b(it|its|they|them|their|there|then|these|those|this)\b", re.IGNORECASE)
#: "that" pointing back ("that figure"), not introducing reported speech ("say that")
THAT_REFERENCE = re.compile(
    r"(?<!\bsay )(?<!\bsays )(?<!\bsaid )(?<!\bclaim )(?<!\bargue )(?<!\bthink )\bthat\b", re.I
)
WHO_WROTE = re.compile(r"\bwho (?:wrote|authored|is the author)\b", re.IGNORECASE)
WH_WORDS = frozenset(["what", "which", "who", "whom", "whose", "when", "where", "why", "how"])

# --- lexicon.py: coverage ignores the words that describe the question or the article -------------
META_WORDS = _set(
    """according article articles author authors study paper piece post blog feature essay report say
    says said state states stated mention mentions mentioned give gives given describe describes
    described call calls called name names named note notes cite cites cited source sources refer
    refers reference references write wrote written claim claims argue argues argued"""
)
#: the frame of a question: its wh-word and auxiliaries ("why does …", "how many were …"), which
#: coverage ignores too (the one stopword list, lexicon.STOPWORDS, is a text list and keeps them)
QUESTION_FRAME = WH_WORDS | _set(
    "do does did is are was were be been being has have had can could should would will may might"
)

# --- features.py: a question that negates or asks about an absence ("the convictions Aliyev lacks")
# expects denials in its answer
ASKS_ABSENCE = re.compile(
    r"\b(?:not|no|never|neither|nor|cannot)\b"
    r"|\b(?:lack\w*|fail\w*|refus\w*|den(?:y|ies|ied)|reject\w*|without|absen\w*|avoid\w*|declin\w*)\b",
    re.IGNORECASE,
)


def asks_absence(question: str) -> bool:
    """The question negates something or asks about what is lacking, refused or denied."""
    return bool(ASKS_ABSENCE.search(question))


# --- retrieve.py: several documents, and the documents a question names ---------------------------
SEVERAL_DOCUMENTS = re.compile(
    r"\b(?:(?:the|two|both|several|all|these|different)\s+(?:\w+\s+)?(?:articles|authors|pieces|studies|analyses)"
    r"|(?:two|both|several|each|all)\s+of\s+the(?:m|se)?\b(?:\s+(?:articles|authors|pieces|studies))?)\b",
    re.I,
)


def asks_several_documents(query: str) -> bool:
    """The question asks what several (unnamed) documents say: "according to the articles", "two of
    the articles", "both authors"."""
    return bool(SEVERAL_DOCUMENTS.search(query))


def strip_aliases(query: str, names: Sequence[str]) -> str:
    """The query without the document names in it ("…, according to Khanin and Roubanis?" → "…?")."""
    alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    out = re.sub(rf"\b(?:{alt})(?:['’]s)?\b", "\x00", query)
    out = re.sub(r"(?:\b(?i:according to|by)\s+)?\x00(?:\s*(?:,|and)\s*\x00)*", "\x00", out)
    out = re.sub(r"\s*,?\s*\x00\s*", " ", out)
    out = re.sub(r"\s+([,?.!])", r"\1", re.sub(r"\s{2,}", " ", out)).strip(" ,")
    return re.sub(r",([?.!])$", r"\1", out) or query
