"""caucasus-qa: sourced question answering over articles on South Caucasus security."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Answer", "Assistant", "IngestReport", "Settings", "Source", "__version__"]

if TYPE_CHECKING:
    from .assistant import Assistant
    from .schema import Answer, IngestReport, Source
    from .settings import Settings


def __getattr__(name: str) -> Any:
    # Lazy: `import caucasus_qa` must not pull in torch, chromadb or gradio until they are used.
    if name == "Assistant":
        from .assistant import Assistant

        return Assistant
    if name in {"Answer", "IngestReport", "Source"}:
        from . import schema

        return getattr(schema, name)
    if name == "Settings":
        from .settings import Settings

        return Settings
    raise AttributeError(name)
