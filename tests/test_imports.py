"""Cold start: each command imports only what it uses (issue 6), checked in fresh interpreters.

A stray top-level import (Gradio in the assistant, the ingest pipeline on the ask path) would add
seconds to every ``caucasus-qa ask`` without failing anything else, so these tests pin it down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from .conftest import CORPUS, REPO

# Only `serve` uses the UI, only `eval` the charts, only an LLM answer the OpenAI client; tiktoken
# only LlamaIndex's default text splitter, which querying never builds.
NEVER_TO_ANSWER = ("gradio", "matplotlib", "openai", "tiktoken", "caucasus_qa.ui", "caucasus_qa.evaluation")
# Needed to answer, but not at import time: the model is loaded when the question is embedded.
MODEL = ("torch", "transformers", "sentence_transformers", "sklearn", "tokenizers")
# Parsing and cleaning documents: ingest only.
INGEST = (
    "caucasus_qa.ingest",
    "caucasus_qa.discovery",
    "caucasus_qa.fingerprint",
    "caucasus_qa.parse",
    "caucasus_qa.clean",
    "caucasus_qa.loaders",
    "ftfy",
)


def modules_after(code: str) -> set[str]:
    """``sys.modules`` of a fresh interpreter after running ``code`` (printed last, as JSON)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def loaded(modules: set[str], packages: tuple[str, ...]) -> list[str]:
    return sorted(p for p in packages if any(m == p or m.startswith(p + ".") for m in modules))


def test_cli_and_package_import_nothing_heavy():
    mods = modules_after("import caucasus_qa, caucasus_qa.cli; caucasus_qa.cli.build_parser()")
    heavy = ("llama_index", "chromadb", "numpy", "nltk", "sqlalchemy", *MODEL, *NEVER_TO_ANSWER, *INGEST)
    assert loaded(mods, heavy) == []


def test_assistant_import_leaves_out_model_ui_and_ingest():
    mods = modules_after("import caucasus_qa.assistant")
    assert loaded(mods, (*MODEL, *NEVER_TO_ANSWER, *INGEST)) == []


@pytest.mark.integration
def test_cold_ask_imports_neither_ui_nor_ingest(qa):
    """A whole standalone ``ask`` (as the console script runs it) on an indexed store."""
    argv = ["caucasus-qa", "ask", "--json", "-k", "2", "--store-dir", str(qa.settings.store.store_dir)]
    argv += ["--corpus-dir", str(CORPUS), "Who wrote about the Zangezur corridor?"]
    mods = modules_after(
        f"import sys\nsys.argv = {argv!r}\nfrom caucasus_qa.cli import main\nassert main() == 0"
    )
    assert "sentence_transformers" in mods  # it did answer
    assert loaded(mods, (*NEVER_TO_ANSWER, *INGEST)) == []
