"""Who may reach the server: loopback by default, anything else only with --auth or --no-auth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from caucasus_qa.cli import main
from caucasus_qa.errors import InputError
from caucasus_qa.settings import Settings
from caucasus_qa.ui import app as ui_app
from caucasus_qa.ui.hosting import check_exposure, is_loopback, parse_auth


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "localhost", "::1", "[::1]", "LOCALHOST"])
def test_loopback(host: str) -> None:
    assert is_loopback(host)
    assert check_exposure(host, None, False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org", "10.0.0.1"])
def test_public_host_needs_auth_or_no_auth(host: str) -> None:
    with pytest.raises(InputError, match="--auth") as exc:
        check_exposure(host, None, False)
    assert exc.value.exit_code == 2 and "\n" not in str(exc.value)
    assert check_exposure(host, "ann:s3cret:x", False) == ("ann", "s3cret:x")
    assert check_exposure(host, None, True) is None


@pytest.mark.parametrize("bad", ["ann", "ann:", ":pw", ""])
def test_parse_auth_rejects(bad: str) -> None:
    with pytest.raises(InputError):
        parse_auth(bad)


def test_auth_and_no_auth_together_is_an_error() -> None:
    with pytest.raises(InputError, match="exclude"):
        check_exposure("0.0.0.0", "a:b", True)


def test_cli_serve_public_without_auth_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["serve", "--host", "0.0.0.0", "--store-dir", str(tmp_path), "--corpus-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and "--auth" in err and "--no-auth" in err


class FakeApp:
    def __init__(self) -> None:
        self.launched: dict[str, Any] = {}
        self.closed = False

    def launch(self, **kw: Any) -> None:
        self.launched = kw

    def close(self) -> None:
        self.closed = True


class FakeQA:
    def __init__(self, tmp: Path) -> None:
        self.settings = Settings(store={"store_dir": tmp, "corpus_dir": tmp})
        self.asked: list[str] = []

    def ask(self, question: str, top_k: int | None = None) -> None:
        self.asked.append(question)


@pytest.mark.parametrize(
    ("kw", "host", "auth"),
    [
        ({}, "127.0.0.1", None),
        ({"host": "0.0.0.0", "auth": "u:p"}, "0.0.0.0", ("u", "p")),
        ({"host": "0.0.0.0", "no_auth": True}, "0.0.0.0", None),
    ],
)
def test_serve_launches_blocking_never_shared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kw: dict[str, Any], host: str, auth: Any
) -> None:
    fake = FakeApp()
    monkeypatch.setattr(ui_app, "build_app", lambda qa: fake)
    qa = FakeQA(tmp_path)
    assert ui_app.serve(qa, port=7999, **kw) == 0  # type: ignore[arg-type]
    assert fake.launched["server_name"] == host and fake.launched["server_port"] == 7999
    assert fake.launched["auth"] == auth
    assert fake.launched["share"] is False and fake.launched["prevent_thread_lock"] is False
    assert "cqa-card" in fake.launched["css"] and "cqa-copy" in fake.launched["head"]
    assert fake.closed and qa.asked  # model warmed before the first user


def test_serve_refuses_before_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(qa: object) -> None:
        raise AssertionError("must not build")

    monkeypatch.setattr(ui_app, "build_app", boom)
    with pytest.raises(InputError):
        ui_app.serve(FakeQA(tmp_path), host="0.0.0.0")  # type: ignore[arg-type]
