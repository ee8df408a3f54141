"""``caucasus-qa config``: every setting, its effective value and where it came from (default/env/flag)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from caucasus_qa.cli import main
from caucasus_qa.settings import RetrievalSettings, Settings, StoreSettings
from caucasus_qa.settings_report import MASK, env_name, settings_report


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No CAUCASUS_QA_* variable of the machine running the tests leaks into these ones."""
    import os

    for name in list(os.environ):
        if name.upper().startswith("CAUCASUS_QA_") or name.upper().startswith("CQA_TEST_"):
            monkeypatch.delenv(name)


def line_of(text: str, name: str) -> list[str]:
    return next(line.split() for line in text.splitlines() if line.split()[0] == name)


def test_config_shows_a_value_from_the_environment(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__TOP_K", "8")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert line_of(out, "retrieval.top_k")[1:] == ["8", "env", "(CAUCASUS_QA_RETRIEVAL__TOP_K)"]
    assert line_of(out, "retrieval.min_score") == ["retrieval.min_score", "0.0", "default"]
    assert len(out.splitlines()) == len(settings_report())  # one line per setting

    assert main(["config", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["retrieval.top_k"] == {
        "value": 8,
        "source": "env",
        "env": "CAUCASUS_QA_RETRIEVAL__TOP_K",
        "description": RetrievalSettings.model_fields["top_k"].description,
    }
    chunk_tokens = shown["embed.chunk_tokens"]
    assert (chunk_tokens["source"], chunk_tokens["value"]) == ("default", 160)


def test_config_shows_flags_over_the_environment(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CAUCASUS_QA_STORE__STORE_DIR", "/elsewhere")
    monkeypatch.setenv("caucasus_qa_store__chroma_url", "http://127.0.0.1:9")  # the settings ignore case
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__TOP_K", "8")
    assert main(["config", "--json", "--store-dir", str(tmp_path)]) == 0
    shown = json.loads(capsys.readouterr().out)
    store_dir, chroma_url = shown["store.store_dir"], shown["store.chroma_url"]
    assert (store_dir["value"], store_dir["source"]) == (str(tmp_path), "flag")
    assert store_dir["env"] == "CAUCASUS_QA_STORE__STORE_DIR"
    assert (chroma_url["value"], chroma_url["source"]) == ("http://127.0.0.1:9", "env")
    assert (shown["retrieval.top_k"]["value"], shown["retrieval.top_k"]["source"]) == (8, "env")
    assert shown["store.corpus_dir"] == {
        "value": "corpus",
        "source": "default",
        "env": "CAUCASUS_QA_STORE__CORPUS_DIR",
        "description": StoreSettings.model_fields["corpus_dir"].description,
    }

    assert main(["config", "--store-dir", str(tmp_path)]) == 0  # the text form says the same
    out = capsys.readouterr().out
    assert line_of(out, "store.store_dir") == ["store.store_dir", str(tmp_path), "flag"]
    assert line_of(out, "retrieval.top_k")[2:] == ["env", "(CAUCASUS_QA_RETRIEVAL__TOP_K)"]


def test_config_masks_a_secret_once_it_is_set(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CAUCASUS_QA_LLM__API_KEY", "sk-very-secret")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "sk-very-secret" not in out and line_of(out, "llm.api_key")[1] == MASK


def test_config_rejects_a_bad_environment_value_on_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("CAUCASUS_QA_RETRIEVAL__TOP_K", "0")
    assert main(["config"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("caucasus-qa: error: CAUCASUS_QA_RETRIEVAL__TOP_K:")


class Retrieval(BaseModel):
    top_k: int = Field(default=5, description="passages per answer")
    fusion: str = "rrf"


class Nested(BaseSettings):
    """A small settings class nested by stage: the report walks into any such class."""

    model_config = SettingsConfigDict(env_prefix="CQA_TEST_", env_nested_delimiter="__", extra="ignore")

    store_dir: str = ".store"
    retrieval: Retrieval = Retrieval()


def test_nested_settings_are_walked_with_their_nested_env_names(monkeypatch) -> None:
    monkeypatch.setenv("CQA_TEST_RETRIEVAL__TOP_K", "9")
    rows = {r.name: r for r in settings_report({"store_dir": "/s"}, Nested)}
    assert list(rows) == ["store_dir", "retrieval.top_k", "retrieval.fusion"]
    top_k = rows["retrieval.top_k"]
    assert (top_k.value, top_k.source, top_k.env) == (9, "env", "CQA_TEST_RETRIEVAL__TOP_K")
    assert top_k.description == "passages per answer"
    assert (rows["retrieval.fusion"].source, rows["retrieval.fusion"].value) == ("default", "rrf")
    assert (rows["store_dir"].source, rows["store_dir"].value) == ("flag", "/s")

    rows = {r.name: r for r in settings_report({"retrieval.top_k": 3}, Nested)}  # a flag wins over env
    assert (rows["retrieval.top_k"].value, rows["retrieval.top_k"].source) == (3, "flag")


def test_env_names_follow_the_prefix_and_the_nested_delimiter() -> None:
    assert env_name(("retrieval", "top_k")) == "CAUCASUS_QA_RETRIEVAL__TOP_K"
    assert env_name(("retrieval", "top_k"), Nested) == "CQA_TEST_RETRIEVAL__TOP_K"
    assert env_name(("store_dir",), Nested) == "CQA_TEST_STORE_DIR"


def test_every_setting_appears_once_and_nothing_set_is_a_default() -> None:
    rows: list[Any] = settings_report()
    names = [r.name for r in rows]
    assert len(set(names)) == len(names) and {n.split(".")[0] for n in names} == set(Settings.model_fields)
    assert all(r.source == "default" for r in rows)
