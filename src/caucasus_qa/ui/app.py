"""The Gradio Blocks of ``caucasus-qa serve``: a Chat tab with source cards and a Library tab.

Everything reaches the Assistant through the instance passed to :func:`build_app`; per-session
conversation state lives in a ``gr.State``. Named API endpoints: ``/ask`` and ``/chat`` (a generator:
in LLM mode it streams the answer as it is written, then the final answer).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

import gradio as gr

from ..assistant import Assistant
from ..errors import CaucasusQAError
from ..settings import SUPPORTED_EXTENSIONS
from . import chat, library
from .feedback import append_feedback, feedback_record
from .hosting import check_exposure
from .render import conversation_sources_html

HERE = Path(__file__).parent
MAX_PASSAGES = 20


def launch_options(qa: Assistant) -> dict[str, Any]:
    """Keyword arguments every launch needs (Gradio 6 takes css/head at launch, not in Blocks)."""
    return {
        "css": (HERE / "style.css").read_text(encoding="utf-8"),
        "head": "<script>" + (HERE / "page.js").read_text(encoding="utf-8") + "</script>",
        "theme": gr.themes.Soft(),
        "share": False,
        "max_file_size": f"{int(qa.settings.serve.max_upload_mb) + 1}mb",
        "footer_links": ["api"],
    }


def build_app(qa: Assistant) -> gr.Blocks:
    s = qa.settings
    llm_ready = bool(s.llm.url)
    with gr.Blocks(title="Caucasus QA — sourced answers", fill_width=False) as demo:
        state = gr.State(chat.new_state())
        gr.HTML(
            '<header class="cqa-header"><h1>Caucasus QA</h1>'
            "<p>Answers about South Caucasus security, quoted from the articles in this library. "
            "Every <code>[n]</code> links to its source card.</p></header>"
        )
        with gr.Tabs():
            with gr.Tab("Chat", id="chat", elem_id="cqa-tab-chat"):  # noqa: SIM117
                with gr.Row(equal_height=False, elem_classes="cqa-main"):
                    with gr.Column(scale=3, min_width=300):
                        chatbot = gr.Chatbot(
                            label="Conversation",
                            elem_id="cqa-chat",
                            height="min(70vh, 640px)",
                            buttons=[],  # Gradio's copy buttons copy raw HTML; answers carry their own
                            feedback_options=("Like", "Dislike"),
                            examples=[{"text": q} for q in chat.EXAMPLES],
                            placeholder="Ask a question, or pick an example.",
                            sanitize_html=True,
                            line_breaks=False,
                        )
                        with gr.Row(elem_classes="cqa-ask-row"):
                            question = gr.Textbox(
                                placeholder="Ask about South Caucasus security… (Enter sends)",
                                show_label=False,
                                lines=1,
                                max_lines=1,
                                max_length=s.retrieval.max_question_chars,
                                scale=5,
                                min_width=180,
                                elem_id="cqa-question",
                                autofocus=True,
                            )
                            ask = gr.Button(
                                "Ask", variant="primary", scale=1, min_width=72, elem_id="cqa-ask"
                            )
                        with gr.Accordion("Search options", open=True, elem_id="cqa-options"):
                            docs = gr.Dropdown(
                                choices=library.document_choices(qa),
                                multiselect=True,
                                label="Only these documents (empty = all)",
                                elem_id="cqa-docs",
                            )
                            top_k = gr.Slider(
                                1, MAX_PASSAGES, value=min(s.retrieval.top_k, MAX_PASSAGES), step=1,
                                label="Passages", elem_id="cqa-topk",
                            )  # fmt: skip
                            mode = gr.Radio(
                                [("Extractive", "extractive"), ("LLM", "llm")],
                                value="extractive",
                                label="Answer mode",
                                info=None if llm_ready else "LLM mode needs CAUCASUS_QA_LLM__URL",
                                interactive=llm_ready,
                                elem_id="cqa-mode",
                            )
                            with gr.Row():
                                clear = gr.Button("Clear conversation", elem_id="cqa-clear")
                                export = gr.DownloadButton(
                                    "Export as Markdown", value=None, interactive=False, elem_id="cqa-export"
                                )
                    with gr.Column(scale=2, min_width=300):
                        sources = gr.HTML(conversation_sources_html([]), elem_id="cqa-sources")
            with gr.Tab("Library", id="library", elem_id="cqa-tab-library"):
                table = gr.Dataframe(
                    value=library.document_rows(qa),
                    headers=list(library.COLUMNS),
                    interactive=False,
                    wrap=True,
                    label="Indexed documents",
                    elem_id="cqa-table",
                )
                files = gr.File(
                    file_count="multiple",
                    file_types=list(SUPPORTED_EXTENSIONS),
                    type="filepath",
                    label=f"Add documents ({', '.join(SUPPORTED_EXTENSIONS)}; "
                    f"up to {s.serve.max_upload_mb:g} MB each)",
                    elem_id="cqa-upload",
                )
                upload_status = gr.HTML(elem_id="cqa-upload-status")
                with gr.Row():
                    to_remove = gr.Dropdown(
                        choices=library.document_choices(qa),
                        label="Document to remove",
                        elem_id="cqa-remove-doc",
                    )
                    remove = gr.Button("Remove from index", variant="stop", elem_id="cqa-remove")

        # -- chat ---------------------------------------------------------------------------------
        def respond(
            message: str, st: dict[str, Any], k: float, only: list[str] | None, how: str
        ) -> Iterator[tuple[Any, ...]]:
            """In LLM mode the bubble shows the answer as it is written; the last yield (the only one
            in extractive mode) holds the final answer, its cards, the new state and the export."""
            answers = list(st["answers"])
            try:
                for item in chat.stream_turn(qa, answers, message, int(k), only, how):
                    if isinstance(item, str):
                        yield chat.writing_view(answers, message, item), gr.skip(), gr.skip(), "", gr.skip()
                    else:
                        answers.append(item)
            except CaucasusQAError as err:
                raise gr.Error(str(err), print_exception=False) from None
            view, cards = chat.render_all(answers)
            path = chat.export_file(answers)
            # plain values only: /chat returns (messages, cards HTML, "", Markdown file); the export
            # button is switched on by export_ready, a private step after it
            yield view, {"answers": answers}, cards, "", str(path) if path else None

        def export_ready(st: dict[str, Any]) -> Any:
            return gr.DownloadButton(interactive=bool(st["answers"]))

        chat_outputs = [chatbot, state, sources, question, export]
        gr.on(
            [question.submit, ask.click],
            respond,
            [question, state, top_k, docs, mode],
            chat_outputs,
            api_name="chat",
            concurrency_id="answer",
            concurrency_limit=2,
        ).then(export_ready, state, export, api_visibility="private", queue=False)

        def pick_example(data: gr.SelectData) -> str:
            return str(data.value.get("text", "")) if isinstance(data.value, dict) else str(data.value)

        chatbot.example_select(pick_example, None, question, api_visibility="private", queue=False).then(
            respond, [question, state, top_k, docs, mode], chat_outputs,
            api_visibility="private", concurrency_id="answer",
        ).then(export_ready, state, export, api_visibility="private", queue=False)  # fmt: skip

        def reset() -> tuple[Any, ...]:
            return (
                [],
                chat.new_state(),
                conversation_sources_html([]),
                gr.DownloadButton(value=None, interactive=False),
            )

        clear.click(reset, None, [chatbot, state, sources, export], api_visibility="private", queue=False)

        def on_like(st: dict[str, Any], data: gr.LikeData) -> None:
            ans = chat.answer_for_message(st["answers"], data.index)
            if ans is not None:
                append_feedback(s.store.store_dir, feedback_record(ans, data.liked))
                gr.Info("Thanks, feedback saved.")

        chatbot.like(on_like, [state], None, api_visibility="private")

        def ask_api(question: str, top_k: int = 5, docs: list[str] | None = None) -> dict[str, Any]:
            """Answer one question; returns Answer.to_dict() (answer with [n] markers, sources)."""
            try:
                return qa.ask(question, top_k=int(top_k), docs=docs or None).to_dict()
            except CaucasusQAError as err:
                raise gr.Error(str(err), print_exception=False) from None

        gr.api(ask_api, api_name="ask", concurrency_id="answer")

        # -- library ------------------------------------------------------------------------------
        def refreshed(status: str) -> tuple[Any, ...]:
            choices = library.document_choices(qa)
            return (
                library.document_rows(qa),
                gr.Dropdown(choices=choices),
                gr.Dropdown(choices=choices, value=None),
                status,
            )

        lib_outputs = [table, docs, to_remove, upload_status]

        def on_upload(paths: Sequence[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:  # noqa: B008
            added, rejected = library.upload_files(qa, list(paths or []), lambda f, d: progress(f, desc=d))
            return (*refreshed(library.status_html(added, rejected)), None)

        files.upload(
            on_upload, files, [*lib_outputs, files],
            api_visibility="private", concurrency_id="store", concurrency_limit=1,
        )  # fmt: skip

        def on_remove(doc_id: str | None) -> tuple[Any, ...]:
            if not doc_id:
                return refreshed(library.status_html([], ["Pick a document to remove."]))
            try:
                msg = library.remove_document(qa, doc_id)
            except CaucasusQAError as err:
                return refreshed(library.status_html([], [str(err)]))
            return refreshed(library.status_html([msg], []))

        remove.click(
            on_remove,
            to_remove,
            lib_outputs,
            api_visibility="private",
            concurrency_id="store",
            concurrency_limit=1,
        )

        def on_load() -> tuple[Any, ...]:
            choices = library.document_choices(qa)
            return library.document_rows(qa), gr.Dropdown(choices=choices), gr.Dropdown(choices=choices)

        demo.load(on_load, None, [table, docs, to_remove], api_visibility="private", queue=False)
    demo.queue(default_concurrency_limit=1)
    return demo


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve(
    qa: Assistant,
    host: str | None = None,
    port: int | None = None,
    auth: str | None = None,
    no_auth: bool = False,
) -> int:
    """Serve until interrupted (Ctrl-C or SIGTERM); 0 on a clean shutdown.

    Raises :class:`~caucasus_qa.errors.InputError` (exit code 2) for a non-loopback host without
    ``auth`` or ``no_auth``, before anything heavy is loaded.
    """
    s = qa.settings
    host = host or s.serve.host
    port = s.serve.port if port is None else port
    creds = check_exposure(host, auth, no_auth)
    qa.ask("warm up the model", top_k=1)  # loads the model and builds the index once, before the first user
    app = build_app(qa)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        app.launch(
            server_name=host, server_port=port, auth=creds, prevent_thread_lock=False, **launch_options(qa)
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
        app.close()
    return 0
