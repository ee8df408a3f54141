"""Typed errors. Each carries a one-line message that names the file or field at fault."""

from __future__ import annotations


class CaucasusQAError(Exception):
    """Base class; the CLI prints ``str(err)`` on one line and exits with :attr:`exit_code`."""

    exit_code = 1


class InputError(CaucasusQAError, ValueError):
    """Bad input from the user: a file, a question or a parameter."""

    exit_code = 2


class DocumentError(InputError):
    """A document that cannot be read or parsed; the message starts with its path."""

    def __init__(self, path: object, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


class QuestionError(InputError):
    """An empty, too long or otherwise unusable question, or a bad ``top_k``."""


class StoreError(CaucasusQAError):
    """The store cannot be used as it is (wrong model, old schema, corrupted, server down)."""

    exit_code = 3
