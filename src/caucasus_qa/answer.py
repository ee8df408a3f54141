"""Answer stage: a short extractive answer whose every sentence carries its source's ``[n]``.

Sentences are quoted exactly from the retrieved passages (repaired text included); nothing is
generated. Candidates are scored by the embedder at sentence level (vectors pooled at ingest, see
:mod:`caucasus_qa.sentvec`; a sentence without one is encoded in one batched ``encode``),
IDF-weighted lexical overlap with the question, and the rank of their passage; near-duplicates
are dropped and the kept sentences are read out passage by passage, best passage first.

Two kinds of question get a different answer:

* citation questions ("which source does the author cite for …") name the reference entries of the
  footnotes attached to the supporting sentence (``Source.markers`` gives each marker's offset);
* metadata questions ("who wrote …", "where was it published") answer from the catalog record of the
  document and cite one of its passages.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from .embed import SentenceTransformerEmbedding
from .schema import DocumentRecord, Source
from .sentvec import sentence_pieces

_WORD = re.compile(r"[^\W_]+(?:[’'][^\W_]+)*", re.UNICODE)


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


STOPWORDS = _words(
    """a an and are as at be by did do does for from had has have how in is it its of on or that the
    their them they this to was were what when where which who whom whose why will with would about
    into than then there these those been being can could should may might also not no but if so
    he she his her him we our us you your i me my one any some many much more most other such only
    over under after before between during while since until upon via per each both either"""
)
# Words that describe the question or the article rather than its subject: ignored by coverage.
META_WORDS = _words(
    """according article articles author authors study paper piece post blog feature essay report say
    says said state states stated mention mentions mentioned give gives given describe describes
    described call calls called name names named note notes cite cites cited source sources refer
    refers reference references write wrote written claim claims argue argues argued"""
)

# sections that hold author, affiliation and funding lines
FRONT_MATTER = re.compile(r"author|acknowledg|funding|biograph|contributor", re.IGNORECASE)

KIND_GENERAL = "general"
KIND_CITATION = "citation"
KIND_METADATA = "metadata"

# A source-like noun asked for by the question ("which study", "whose work"); "article" is left out:
# in this corpus "which article argues ..." asks which of the documents, not which footnote.
_SOURCE_NOUN = r"(?:sources?|stud(?:y|ies)|reports?|works?|research|publications?|papers?|books?|references?)"
_CITATION_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bcit(?:e|es|ed|ing)\b",
        # "which study does he rely on", "whom does he rely on for the figure": not "how much does
        # Israel rely on Azerbaijan" or "whom does Armenia rely on for arms"
        rf"\b(?:which|what|whose) (?:\w+ )?{_SOURCE_NOUN}\b.*\brel(?:y|ies|ied|ying) on\b",
        r"\brel(?:y|ies|ied|ying) on\b.*\bfor (?:the|this|that|his|her|its|their) (?:\w+ )?"
        r"(?:figure|claim|number|estimate|data|statistics?|account|statement|quote|assertion)\b",
        r"\b(?:foot|end)?notes?\b",
        r"\breferences?\b",
        rf"\b(?:which|what) {_SOURCE_NOUN}\b.*\b(?:does|did|do)\b",
        # "what source backs …", "whose work underpins …", "which report supports …"
        rf"\b(?:which|what|whose) (?:(?!funding)\w+ )?{_SOURCE_NOUN} "
        r"(?:back|support|underpin|substantiat|corroborat|document|ground|underl[iy])\w*",
        r"\bwhere (?:does|did) .* (?:take|get|draw|borrow) .* from\b",
        r"\bsource (?:for|of|behind) (?:that|this|these|those|the|his|her|its|their)\b",
    )
]
_METADATA_PATTERNS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bwho (?:wrote|authored|is the author|are the authors)\b",
        r"\b(?:written|authored|published|appeared?|carried(?! out))\b"
        r".*\b(?:by|in|when|where|year|journal|website|blog)\b",
        r"\b(?:when|what date|what day|what year) was\b.*\b(?:published|written|posted|released)\b",
        r"\b(?:published|written|posted|released)\s*\?*\s*$",  # "On what date was X published?"
        r"\b(?:which|what) (?:journal|website|site|outlet|venue|publisher|institution'?s? blog|blog)\b",
        r"\b(?:what|which) (?:type|kind|sort|form) of (?:publication|document|piece|text|writing)\b",
        r"\b(?:publication date|date of publication)\b",
        r"\b(?:affiliation|affiliated|funding|funded|editorial team|teach|teaches|professor)\b",
        r"\b(?:at|for|with|in) (?:which|what) (?:university|institute|faculty|department|college)\b",
        r"\b(?:thank|thanks|thanked|acknowledge[sd]?|grateful)\b",
        r"\bwho is the author\b",
    )
]


# how rewrite.py marks the earlier question carried along with a follow-up
CONTEXT_LABEL = "follow-up to:"


def main_question(query: str) -> str:
    """A rewritten follow-up without the context it carries (the question actually asked)."""
    cut = query.find(f" ({CONTEXT_LABEL} ")
    return query[:cut] if cut >= 0 else query


def question_kind(question: str) -> str:
    """``citation``, ``metadata`` or ``general``, from the wording of the question (context ignored)."""
    question = main_question(question)
    if any(p.search(question) for p in _CITATION_PATTERNS):
        return KIND_CITATION
    if any(p.search(question) for p in _METADATA_PATTERNS):
        return KIND_METADATA
    return KIND_GENERAL


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """A crude, symmetric suffix stripper: enough to match ``deployed``/``deploys``/``deploy``."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'")
    for suffix, repl in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)] + repl
            break
    return w


_META_STEMS = frozenset(stem(w) for w in META_WORDS)


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


class SentenceVectors:
    """Sentence embeddings kept across questions (passages recur), so each sentence is encoded once.

    ``known`` gives the vectors stored at ingest (see :mod:`caucasus_qa.sentvec`) for the sentences
    of a document; only sentences it lacks are encoded here. ``spans`` gives the sentence spans
    stored with them for a source that is one whole chunk (None otherwise): the same Punkt spans,
    without running Punkt again.
    """

    def __init__(
        self,
        embedding: SentenceTransformerEmbedding,
        max_items: int = 50_000,
        known: Callable[[str], Mapping[str, np.ndarray]] | None = None,
        spans: Callable[[Source], Sequence[tuple[int, int]] | None] | None = None,
    ) -> None:
        self.embedding = embedding
        self.max_items = max_items
        self.known = known
        self.stored_spans = spans
        self._vecs: dict[str, np.ndarray] = {}

    def sentence_spans(self, source: Source) -> Sequence[tuple[int, int]]:
        """Stripped spans of the sentences of ``source.text``."""
        stored = self.stored_spans(source) if self.stored_spans is not None else None
        return stored if stored is not None else _sentence_pieces(source.text)

    def for_sources(self, sources: Sequence[Source], texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts`` (sentences of ``sources``): stored ones first, the rest encoded."""
        if self.known is None or not texts:
            return self.encode(texts)
        stored: dict[str, np.ndarray] = {}
        for doc_id in dict.fromkeys(s.doc_id for s in sources):
            stored.update(self.known(doc_id))
        rest = iter(self.encode([t for t in texts if t not in stored]))
        stacked = np.stack([stored[t] if t in stored else next(rest) for t in texts])
        return stacked.astype(np.float32, copy=False)  # stored vectors are float16

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vecs))
        if missing:
            if len(self._vecs) + len(missing) > self.max_items:
                self._vecs.clear()
            for t, v in zip(missing, self.embedding.encode(missing), strict=True):
                self._vecs[t] = v
        if not texts:
            return np.zeros((0, self.embedding.dimension), dtype=np.float32)
        return np.stack([self._vecs[t] for t in texts])


@dataclass(frozen=True)
class Candidate:
    source_rank: int  # 1-based rank of the passage
    start: int  # span in the passage text
    end: int
    text: str
    score: float
    similarity: float = 0.0
    overlap: float = 0.0


@dataclass(frozen=True)
class Composed:
    text: str
    used: list[Candidate]
    best_similarity: float
    kind: str = KIND_GENERAL
    coverage: float = 0.0  # IDF-weighted share of the question's terms found in the passages
    best_coverage: float = 0.0  # same, within the best passage alone
    unknown_terms: tuple[str, ...] = ()  # question terms that occur nowhere in the corpus
    margin: float = 0.0  # best sentence score minus the median candidate score
    best_score: float = 0.0
    sentence_coverage: float = 0.0  # best IDF-weighted term coverage of a single sentence
    expects_number: bool = False  # "how many", "what year", ...
    number_support: bool = True  # a number among the best-scoring sentences (when one is expected)
    answered_by_record: bool = False  # the catalog record holds what was asked (an author's affiliation)


@dataclass(frozen=True)
class ComposeConfig:
    # at most 4 sentences; on dev, 3 -> 4 with keep_within 0.3 -> 0.7 took keyword recall 0.787 -> 0.861
    max_sentences: int = 4
    min_chars: int = 25
    lexical_weight: float = 1.0  # tuned on the dev split (0.35 / 0.7 / 1.0 tried)
    rank_weight: float = 0.08
    keep_within: float = 0.7  # keep further sentences scoring within this of the best (dev: 0.3..1.0 tried)
    citation_window: float = 0.3  # a footnoted sentence this close to the best supports the claim
    duplicate_similarity: float = 0.88
    max_passages: int = 6
    front_matter_bonus: float = 0.2
    # sentences after the best one quoted for a why-question (dev: 1 -> 2 took why 0.55 -> 0.64)
    why_following: int = 2


def compose_answer(
    question: str,
    sources: Sequence[Source],
    embedding: SentenceTransformerEmbedding,
    lexicon: Lexicon | None = None,
    records: Mapping[str, DocumentRecord] | None = None,
    config: ComposeConfig | None = None,
    vectors: SentenceVectors | None = None,
    query_vector: Sequence[float] | None = None,
    names: DocumentNames | None = None,
) -> Composed:
    """Answer ``question`` from ``sources`` by quoting up to ``max_sentences`` of their sentences.

    ``query_vector``: the question's embedding when the caller has it (retrieval computed it);
    ``names``: :class:`DocumentNames` of ``records`` when the caller keeps one.
    """
    cfg = config or ComposeConfig()
    lex = lexicon or Lexicon.from_texts(s.text for s in sources)
    records = records or {}
    names = names if names is not None else DocumentNames(records)
    kind = question_kind(question)
    sources = list(sources[: cfg.max_passages])
    terms = question_terms(question, ignored_stems=names.author_stems)
    coverage, best_coverage = _coverage(terms, sources, lex)
    unknown = tuple(sorted(t for t in terms if not lex.known(t)))

    vectors = vectors or SentenceVectors(embedding)
    cands = _candidates(sources, cfg.min_chars, vectors)
    if not cands:
        return Composed("", [], 0.0, kind, coverage, best_coverage, unknown)
    q = embedding.encode([question])[0] if query_vector is None else np.asarray(query_vector, np.float32)
    s = vectors.for_sources(sources, [c[3] for c in cands])
    sims = s @ q
    weights = {t: lex.idf(t) for t in terms}
    total = sum(weights.values()) or 1.0
    scored: list[Candidate] = []
    for (rank, a, b, sent), sim in zip(cands, sims, strict=True):
        overlap = sum(weights[t] for t in terms & content_words(sent)) / total
        score = float(sim) + cfg.lexical_weight * overlap + cfg.rank_weight / rank
        scored.append(Candidate(rank, a, b, sent, score, float(sim), overlap))
    by_rank = {src.rank: src for src in sources}
    if kind == KIND_METADATA:  # author, affiliation and funding lines live in the front matter
        front = {r for r, src in by_rank.items() if src.start == 0 or FRONT_MATTER.search(src.section)}
        scored = [
            replace(c, score=c.score + cfg.front_matter_bonus) if c.source_rank in front else c
            for c in scored
        ]
    order = [int(i) for i in np.argsort([-c.score for c in scored], kind="stable")]
    best = scored[order[0]]
    margin = best.score - float(np.median([c.score for c in scored]))
    by_record = False  # a metadata answer the record gives by itself
    if kind == KIND_CITATION:
        text, used = _citation_answer(scored, order, by_rank, cfg)
    else:
        chosen = _select(scored, order, s, cfg)
        if _is_why(main_question(question)):
            chosen = _with_following_sentences(chosen, scored, cfg)
        docs = names.referenced(question)
        if len(docs) > 1 or _is_compound(main_question(question)):
            chosen = _spread(chosen, scored, order, s, by_rank, docs, cfg)
        used = _readable(chosen)
        line, by_record = _metadata_line(question, sources, records) if kind == KIND_METADATA else ("", False)
        if line:
            used = used[:2]  # the catalog line comes first; keep the whole answer within 3 sentences
        text = " ".join([line] + [f"{_ensure_period(c.text)} [{c.source_rank}]" for c in used])
    expects = bool(_EXPECTS_NUMBER.search(main_question(question)))
    top5 = [scored[i] for i in order[:5]]
    return Composed(
        text.strip(),
        used,
        float(np.max(sims)),
        kind,
        coverage,
        best_coverage,
        unknown,
        margin,
        best.score,
        sentence_coverage=max(c.overlap for c in scored),
        expects_number=expects,
        number_support=not expects or any(_NUMBER.search(c.text) for c in top5),
        answered_by_record=by_record,
    )


_EXPECTS_NUMBER = re.compile(
    r"\b(?:how (?:many|much|long|large|big|far)|what (?:year|percentage|share|proportion|rate|number|amount)|"
    r"in what year|in which year)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?|thousands?|millions?|"
    r"billions?|half|double|twice)\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=1 << 12)  # the same merged passages come back for related questions
def _sentence_pieces(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(sentence_pieces(text))


def _candidates(
    sources: Sequence[Source], min_chars: int, vectors: SentenceVectors
) -> list[tuple[int, int, int, str]]:
    return [
        (src.rank, a, b, src.text[a:b])
        for src in sources
        for a, b in vectors.sentence_spans(src)
        if b - a >= min_chars
    ]


def _coverage(terms: set[str], sources: Sequence[Source], lex: Lexicon) -> tuple[float, float]:
    if not terms:
        return 1.0, 1.0
    weights = {t: lex.idf(t) for t in terms}
    total = sum(weights.values()) or 1.0
    per = [content_words(s.text) for s in sources]
    union: set[str] = set().union(*per) if per else set()
    cov = sum(w for t, w in weights.items() if t in union) / total
    best = max((sum(w for t, w in weights.items() if t in p) / total for p in per), default=0.0)
    return cov, best


def _select(
    scored: list[Candidate], order: list[int], vecs: np.ndarray, cfg: ComposeConfig
) -> list[Candidate]:
    chosen: list[int] = []
    best = scored[order[0]].score
    for i in order:
        c = scored[i]
        if len(chosen) >= cfg.max_sentences or c.score < best - cfg.keep_within:
            break
        if any(
            float(vecs[i] @ vecs[j]) > cfg.duplicate_similarity or _same_words(c, scored[j]) for j in chosen
        ):
            continue
        chosen.append(i)
    return [scored[i] for i in chosen]


_WHY = re.compile(
    r"^\s*(?:and\s+)?(?:why|what (?:reasons?|motives?|explains)|for what reason|how come)\b", re.I
)
_COMPOUND = re.compile(r"\b(?:differ|differences?|compare|comparison|contrast)\b|,\s*and\s+\w+", re.I)


def _is_why(question: str) -> bool:
    return bool(_WHY.search(question)) or bool(re.search(r"\bwhy\b", question, re.I))


def _is_compound(question: str) -> bool:
    return bool(_COMPOUND.search(question))


def _with_following_sentences(
    chosen: list[Candidate], scored: list[Candidate], cfg: ComposeConfig
) -> list[Candidate]:
    """For why-questions the reason often follows the sentence that matches the question: quote the
    ``why_following`` sentences after it, dropping the weakest other sentences to make room."""
    if not chosen:
        return chosen
    top = chosen[0]
    after = sorted(
        (c for c in scored if c.source_rank == top.source_rank and c.start >= top.end), key=lambda c: c.start
    )
    following = [c for c in after[: cfg.why_following] if c not in chosen]
    if not following:
        return chosen
    keep = chosen[: max(1, cfg.max_sentences - len(following))]
    return [*keep, *following]


def _spread(
    chosen: list[Candidate],
    scored: list[Candidate],
    order: list[int],
    vecs: np.ndarray,
    by_rank: Mapping[int, Source],
    docs: list[str],
    cfg: ComposeConfig,
) -> list[Candidate]:
    """A two-part question: make sure each named document (or else a second passage) is quoted."""
    limit = max(cfg.max_sentences, 4)
    have_docs = {by_rank[c.source_rank].doc_id for c in chosen}
    have_ranks = {c.source_rank for c in chosen}
    wanted = [d for d in docs if d not in have_docs]
    out = list(chosen)
    for i in order:
        if len(out) >= limit or (not wanted and len(have_ranks) > 1):
            break
        c = scored[i]
        doc = by_rank[c.source_rank].doc_id
        fits = doc in wanted if wanted else c.source_rank not in have_ranks
        if (
            not fits
            or c in out
            or any(float(vecs[i] @ vecs[scored.index(o)]) > cfg.duplicate_similarity for o in out)
        ):
            continue
        out.append(c)
        have_ranks.add(c.source_rank)
        if doc in wanted:
            wanted.remove(doc)
    return out


def _same_words(a: Candidate, b: Candidate) -> bool:
    wa, wb = content_words(a.text), content_words(b.text)
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) > 0.8


def _readable(chosen: list[Candidate]) -> list[Candidate]:
    """Best passage first; sentences of one passage in their reading order."""
    first: dict[int, int] = {}
    for i, c in enumerate(chosen):
        first.setdefault(c.source_rank, i)
    return sorted(chosen, key=lambda c: (first[c.source_rank], c.start))


def sentence_footnotes(source: Source, start: int, end: int) -> list[int]:
    """Footnote numbers whose markers stood inside (or right after) the sentence ``start:end``."""
    tail = end
    while tail < len(source.text) and source.text[tail] in " \u00a0\t\n\"”’')":
        tail += 1
    return list(dict.fromkeys(n for off, n in source.markers if start < off <= tail))


def _following_footnotes(source: Source, end: int) -> list[int]:
    after = sorted((off, n) for off, n in source.markers if off > end)
    return [after[0][1]] if after else []


def _citation_answer(
    scored: list[Candidate], order: list[int], by_rank: Mapping[int, Source], cfg: ComposeConfig
) -> tuple[str, list[Candidate]]:
    best = scored[order[0]].score
    pick: tuple[Candidate, list[int]] | None = None
    for i in order:
        c = scored[i]
        if c.score < best - cfg.citation_window:
            break
        notes = sentence_footnotes(by_rank[c.source_rank], c.start, c.end)
        if notes:
            pick = (c, notes)
            break
    if pick is None:
        c = scored[order[0]]
        pick = (c, _following_footnotes(by_rank[c.source_rank], c.end))
    c, notes = pick
    src = by_rank[c.source_rank]
    refs = dict(zip(src.footnotes, src.references, strict=False))
    entries = [(n, refs[n]) for n in notes if n in refs]
    text = f"{_ensure_period(c.text)} [{c.source_rank}]"
    if entries:
        label = "note" if len(entries) == 1 else "notes"
        numbers = ", ".join(str(n) for n, _ in entries)
        cited = "; ".join(" ".join(e.split()).rstrip(" .") for _, e in entries)
        text += f" The source cited for this ({label} {numbers}): {cited}. [{c.source_rank}]"
    return text, [c]


def _metadata_line(
    question: str, sources: Sequence[Source], records: Mapping[str, DocumentRecord]
) -> tuple[str, bool]:
    """The catalog record as a sentence, and whether it answers the question by itself (an
    affiliation asked for and recorded; author, venue and date questions still face abstention,
    since a near miss can ask them of a document that lacks them)."""
    if not sources:
        return "", False
    doc_id = which_document(question, records, [s.doc_id for s in sources]) or sources[0].doc_id
    src = next((s for s in sources if s.doc_id == doc_id), sources[0])
    doc_id = src.doc_id
    rec = records.get(doc_id) or DocumentRecord(
        doc_id=doc_id, title=src.title, authors=tuple(src.authors), venue=src.venue, date=src.date
    )
    title = f"\u201c{rec.title}\u201d" if rec.title else "This document"
    who = _join(list(rec.authors))
    sentence = f"{title} was written by {who}" if who else f"{title} names no author"
    if rec.venue:
        sentence += f", published in {_with_acronym(rec)}"
    details = [d for d in (rec.date, rec.kind.replace("-", " ")) if d]
    if details:
        sentence += f" ({'; '.join(details)})"
    if rec.url:
        sentence += f", {rec.url}"
    line = f"{sentence}. [{src.rank}]"
    if rec.affiliation and _ASKS_AFFILIATION.search(main_question(question)):
        line += f" The document introduces its author: {_ensure_period(rec.affiliation)} [{src.rank}]"
        return line, True
    return line, False


_ASKS_AFFILIATION = re.compile(
    r"\b(?:affiliat\w*|universit\w*|institut\w*|faculty|department|college|professor|teach\w*"
    r"|(?:where|for whom|for which \w+) (?:does|did) (?:the author|\w+) work)\b",
    re.IGNORECASE,
)


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


def _with_acronym(rec: DocumentRecord) -> str:
    acronym = rec.venue_acronym()
    return f"{rec.venue} ({acronym})" if acronym else rec.venue


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _ensure_period(sentence: str) -> str:
    return sentence if sentence[-1:] in ".!?\u201d\"')" else sentence + "."
