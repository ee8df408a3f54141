"""Words, stems, IDF statistics and document names: the lexical facts the query stages share.

One stemmer and one stopword list for the whole package: answer scoring, focus coverage, follow-up
rewriting and the BM25 index (:mod:`caucasus_qa.bm25`) all use :func:`stemmer` (PyStemmer's
Snowball English) and :data:`STOPWORDS`.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from .query_words import META_WORDS, QUESTION_FRAME
from .schema import DocumentRecord

_WORD = re.compile(r"[^\W_]+(?:[’'][^\W_]+)*", re.UNICODE)


# The one stopword list: bm25s's English list ("en", 33 words), which BM25 has always used, so the
# keyword index and its rankings stay as they were. A question's own frame ("what", "how", "does")
# is not in it: coverage leaves it out with the words that describe the question (QUESTION_FRAME and
# META_WORDS of query_words.py).
STOPWORDS: frozenset[str] = frozenset(STOPWORDS_EN)


def stemmer() -> Stemmer.Stemmer:
    """A new PyStemmer Snowball English stemmer (one must not be used by two threads at once)."""
    return Stemmer.Stemmer("english")


_STEMMER = stemmer()
_STEMMER_LOCK = threading.Lock()  # stem() is called from the UI's answering threads


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """The Snowball English stem (the stemmer BM25 uses) of a lower-cased word, possessive dropped:
    ``deployed``/``deploys``/``deploy`` → ``deploy``, ``Azerbaijan's`` → ``azerbaijan``."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'")
    with _STEMMER_LOCK:
        return str(_STEMMER.stemWord(w))


# words that describe the question or the article rather than its subject, and the question's frame
# (wh-word, auxiliaries): ignored by coverage
_META_STEMS = frozenset(stem(w) for w in META_WORDS | QUESTION_FRAME)


def words(text: str) -> list[str]:
    return [m.group() for m in _WORD.finditer(text)]


@functools.lru_cache(maxsize=1 << 13)  # passages and their sentences recur from question to question
def content_words(text: str) -> frozenset[str]:
    """Stemmed content words of ``text`` (stopwords and one-letter words dropped)."""
    out = set()
    for w in words(text):
        lw = w.lower().replace("’", "'")
        if lw in STOPWORDS or len(lw) < 2:
            continue
        out.add(stem(lw))
    return frozenset(out)


def question_terms(question: str, ignored_stems: frozenset[str] = frozenset()) -> set[str]:
    """Content words of a question that its answer should touch: meta words and author names
    (``ignored_stems``, already stemmed) left out."""
    # membership tests, not a union: ``ignored_stems`` holds every author's name at 10,000 documents
    return {w for w in content_words(question) if w not in _META_STEMS and w not in ignored_stems}


class DocumentNames:
    """The catalog records, their author names and venue acronyms indexed once per corpus version, so that
    matching a question against them costs the same at 5 documents or 10,000 (scanning every
    record for each question took tens of milliseconds at 10,000)."""

    def __init__(self, records: Mapping[str, DocumentRecord]) -> None:
        self.records = records
        self.author_stems = frozenset(
            stem(n.lower()) for r in records.values() for a in r.authors for n in a.split()
        )
        self._rank = {doc_id: i for i, doc_id in enumerate(records)}
        self._by_key: dict[str, list[str]] = {}
        for doc_id, rec in records.items():
            keys = {stem(a.split()[-1]) for a in rec.authors if a.split()}
            acronym = rec.venue_acronym()
            if acronym:
                keys.add(acronym.lower())
            for key in keys:
                self._by_key.setdefault(key, []).append(doc_id)

    def referenced(self, question: str) -> list[str]:
        """Documents the question names by an author's surname or a venue acronym, in catalog order."""
        found = {d for w in {stem(w) for w in words(question)} for d in self._by_key.get(w, ())}
        return sorted(found, key=self._rank.__getitem__)


@dataclass
class Lexicon:
    """Document frequencies of stemmed words over the indexed chunks (for IDF weights)."""

    df: Counter[str] = field(default_factory=Counter)
    n: int = 0

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Lexicon:
        df: Counter[str] = Counter()
        n = 0
        for t in texts:
            df.update(content_words(t))
            n += 1
        return cls(df, n)

    def idf(self, word: str) -> float:
        return math.log((self.n + 1) / (self.df.get(word, 0) + 0.5))

    def known(self, word: str) -> bool:
        return self.df.get(word, 0) > 0


def which_document(
    question: str, records: Mapping[str, DocumentRecord], candidates: Sequence[str] = ()
) -> str | None:
    """The document a metadata question is about: author surname, title words, venue (or its acronym).

    Ties go to the earliest of ``candidates`` (the retrieved documents, best first); None when
    nothing in the question points at any record and there are no candidates.
    """
    qwords = {stem(w) for w in words(question)}
    qterms = content_words(question)
    order = list(dict.fromkeys([*candidates, *records]))
    best_doc, best_score = (candidates[0] if candidates else None), 0.0
    for doc_id in order:
        rec = records.get(doc_id)
        if rec is None:
            continue
        score = 3.0 * sum(1 for a in rec.authors if a.split() and stem(a.split()[-1]) in qwords)
        score += len(qterms & content_words(rec.title)) + 0.5 * len(qterms & content_words(rec.venue))
        acronym = rec.venue_acronym()
        if acronym and acronym.lower() in qwords:
            score += 2.0
        if score > best_score:
            best_doc, best_score = doc_id, score
    return best_doc
