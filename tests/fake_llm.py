"""A stand-in for a model: a tiny local HTTP server that speaks the OpenAI chat-completions API
(plain and streamed) and replies with canned text. No model runs anywhere; tests set the reply, and
can slow the stream down (``FakeModel.delay`` seconds between chunks) to watch partial output."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

CHUNK_CHARS = 7  # the streamed reply comes in pieces of this many characters


class FakeModel:
    """State shared with the handler: the reply to give, the pause between streamed chunks, and the
    requests seen."""

    reply = "Iran moved 50,000 troops [1]."
    delay = 0.0
    requests: ClassVar[list[dict[str, Any]]] = []


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeModel.requests.append(body)
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        base = {"id": "fake-1", "created": 0, "model": body.get("model", "fake")}
        if body.get("stream"):
            self._stream(base, FakeModel.reply)
            return
        payload = {
            **base,
            "object": "chat.completion",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": FakeModel.reply},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, base: dict[str, Any], text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        pieces = [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]
        for i, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            chunk = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            if FakeModel.delay:
                time.sleep(FakeModel.delay)
        end = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())


@contextmanager
def serve_fake_llm() -> Iterator[str]:
    """The stand-in's base URL (``http://127.0.0.1:PORT/v1``) while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()
