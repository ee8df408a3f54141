"""Settings nested by stage: ``CAUCASUS_QA_<GROUP>__<FIELD>`` from the environment, flags over it,
overrides by group, and the flat names of earlier versions no longer read (with a warning)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from caucasus_qa.assistant import Assistant
from caucasus_qa.cli import _assistant, build_parser, main
from caucasus_qa.settings import RENAMED, Settings, env_var, renamed_in_env, with_overrides

from .conftest import CORPUS


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CAUCASUS_QA_* variable of the machine running the tests leaks into these ones."""
    for name in list(os.environ):
        if name.upper().startswith("CAUCASUS_QA_"):
            monkeypatch.delenv(name)


def leaves(model: type[BaseModel], prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for name, info in model.model_fields.items():
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            out.update(leaves(kind, f"{prefix}{name}."))
        else:
            out[prefix + name] = info
    return out


def test_nested_settings_come_from_the_environment(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__TOP_K", "8")
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__DENSE_WEIGHT", "0.3")
    monkeypatch.setenv("CAUCASUS_QA_STORE__STORE_DIR", str(tmp_path))
    monkeypatch.setenv("CAUCASUS_QA_EMBED__BATCH_SIZE", "16")
    monkeypatch.setenv("CAUCASUS_QA_ANSWER__LEARNED", "false")
    monkeypatch.setenv("caucasus_qa_abstain__min_similarity", "0.5")  # case is ignored
    monkeypatch.setenv("CAUCASUS_QA_LLM__URL", "http://127.0.0.1:9/v1")
    s = Settings()
    assert (s.retrieval.top_k, s.retrieval.dense_weight) == (8, 0.3)
    assert s.retrieval.bm25_weight == 0.6 and s.retrieval.max_top_k == 50  # the rest of the group: defaults
    assert s.store.store_dir == tmp_path and s.manifest_file == tmp_path / "manifest.json"
    assert s.chroma_dir == tmp_path / "chroma" and s.chunks_file == tmp_path / "chunks.jsonl"
    assert s.embed.batch_size == 16 and s.answer.learned is False
    assert s.abstain.min_similarity == 0.5 and s.llm.url == "http://127.0.0.1:9/v1"

    qa = Assistant(corpus_dir=CORPUS)  # the assistant reads the same environment
    assert qa.settings.retrieval.top_k == 8 and qa.settings.store.store_dir == tmp_path
    assert qa._check_top_k(None) == 8 and qa._check_top_k(2) == 2  # a call's own top_k wins
    assert qa.models() is None  # answer.learned off: the hand-weighted score and floors


def test_a_bad_or_misspelt_nested_variable_is_an_error(monkeypatch) -> None:
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__TOP_K", "0")
    with pytest.raises(ValidationError, match=r"retrieval\.top_k"):
        Settings()
    monkeypatch.delenv("CAUCASUS_QA_RETRIEVAL__TOP_K")
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__TOPK", "3")  # not silently the default
    with pytest.raises(ValidationError, match=r"retrieval\.topk"):
        Settings()


def test_the_flat_names_of_earlier_versions_are_not_read_and_the_cli_says_so(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CAUCASUS_QA_TOP_K", "8")
    monkeypatch.setenv("CAUCASUS_QA_EMBED_BACKEND", "onnx")
    assert Settings().retrieval.top_k == 5 and Settings().embed.backend == "torch"
    assert main(["config"]) == 0
    err = capsys.readouterr().err.splitlines()
    warn = "caucasus-qa: warning: {} is no longer read; set {}"
    assert warn.format("CAUCASUS_QA_TOP_K", "CAUCASUS_QA_RETRIEVAL__TOP_K") in err
    assert warn.format("CAUCASUS_QA_EMBED_BACKEND", "CAUCASUS_QA_EMBED__BACKEND") in err
    assert renamed_in_env({"CAUCASUS_QA_RETRIEVAL__TOP_K": "8"}) == []  # the new names are not warned about


def test_every_old_name_maps_to_a_field_and_every_field_has_a_description() -> None:
    fields = leaves(Settings)
    assert set(RENAMED.values()) <= set(fields)
    assert len(RENAMED) == 41  # every field of the flat settings
    assert all(getattr(info, "description", None) for info in fields.values()), [
        name for name, info in fields.items() if not getattr(info, "description", None)
    ]
    assert env_var("retrieval.top_k") == "CAUCASUS_QA_RETRIEVAL__TOP_K"


def test_overrides_by_group_or_dotted_name_and_unknown_names_fail() -> None:
    base = Settings()
    s = with_overrides(base, {"retrieval": {"top_k": 3}, "answer.learned": False})
    assert (s.retrieval.top_k, s.answer.learned, s.retrieval.rerank_depth) == (3, False, 20)
    assert base.retrieval.top_k == 5  # the base is left as it was
    with pytest.raises(TypeError, match="unknown setting 'top_k'"):
        with_overrides(base, {"top_k": 3})
    with pytest.raises(TypeError, match=r"unknown setting retrieval\.topk"):
        with_overrides(base, {"retrieval": {"topk": 3}})
    with pytest.raises(ValidationError):
        with_overrides(base, {"retrieval.top_k": 0})

    qa = Assistant(store_dir="elsewhere", retrieval={"rerank_depth": 7})
    assert qa.settings.retrieval.rerank_depth == 7 and qa.settings.store.store_dir == Path("elsewhere")
    with pytest.raises(TypeError, match="unknown setting 'rerank_depth'"):
        Assistant(rerank_depth=7)  # the flat keyword of earlier versions


def test_a_flag_wins_over_the_environment_in_the_assistant_the_cli_builds(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CAUCASUS_QA_STORE__STORE_DIR", "/elsewhere")
    monkeypatch.setenv("CAUCASUS_QA_STORE__CORPUS_DIR", str(CORPUS))
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__TOP_K", "3")
    args = build_parser().parse_args(["docs", "--store-dir", str(tmp_path)])
    s = _assistant(args).settings
    assert s.store.store_dir == tmp_path  # the flag
    assert s.store.corpus_dir == CORPUS and s.retrieval.top_k == 3  # the environment
    args = build_parser().parse_args(["docs"])
    assert _assistant(args).settings.store.store_dir == Path("/elsewhere")


@pytest.mark.integration
def test_ask_takes_top_k_from_the_environment_and_the_flag_over_it(qa, monkeypatch, capsys) -> None:
    import json

    args = ["--store-dir", str(qa.settings.store.store_dir), "--corpus-dir", str(CORPUS)]
    question = "Why does Iran see Azerbaijan as a threat?"
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__TOP_K", "3")
    assert main(["ask", "--json", question, *args]) == 0
    assert len(json.loads(capsys.readouterr().out)["sources"]) == 3
    assert main(["ask", "--json", "-k", "2", question, *args]) == 0
    assert len(json.loads(capsys.readouterr().out)["sources"]) == 2
