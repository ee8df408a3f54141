"""The browser-test gate of tests/conftest.py, run on a tiny suite through pytest's ``pytester``:
without chromium, browser tests are skipped and the run ends with a loud block that counts them and
says how to run them; with CAUCASUS_QA_REQUIRE_BROWSER they fail; with chromium nothing is said."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import REPO

pytest_plugins = ["pytester"]

SUITE = """
import pytest

@pytest.mark.browser
def test_page_renders():
    pass

@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 1440])
def test_page_at(width):
    pass

def test_plain():
    pass

@pytest.mark.skip(reason="not a browser test")
def test_skipped_elsewhere():
    pass
"""


@pytest.fixture()
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """The project's conftest over a suite of three browser tests, a plain one and a skipped one."""
    monkeypatch.delenv("CAUCASUS_QA_REQUIRE_BROWSER", raising=False)
    pytester.makeconftest((REPO / "tests" / "conftest.py").read_text(encoding="utf-8"))
    pytester.makeini("[pytest]\nmarkers =\n    browser: drives chromium\naddopts = -ra -p no:cacheprovider\n")
    pytester.makepyfile(test_ui=SUITE)
    return pytester


def without_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CAUCASUS_QA_CHROMIUM", str(tmp_path / "no-such-chromium"))


def test_missing_chromium_ends_the_run_with_a_loud_count(suite, monkeypatch, tmp_path) -> None:
    without_chromium(monkeypatch, tmp_path)
    result = suite.runpytest()
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(
        [
            "!!!* 3 BROWSER TESTS DID NOT RUN !!!*",
            "The chat UI was not tested in a browser: 3 test(s) marked 'browser' were skipped.",
            f"Why: {tmp_path / 'no-such-chromium'} not installed",
            "To run them: apt-get install chromium*",
            "then:        make test",
            "*CAUCASUS_QA_REQUIRE_BROWSER=1*",
            "!!!* 3 BROWSER TESTS DID NOT RUN !!!*",
            "=* 1 passed, 4 skipped in *",  # the block sits right above the final counts
        ]
    )
    assert result.ret == 0  # loud, but a local run without a browser still passes


def test_ci_fails_each_browser_test_instead(suite, monkeypatch, tmp_path) -> None:
    without_chromium(monkeypatch, tmp_path)
    monkeypatch.setenv("CAUCASUS_QA_REQUIRE_BROWSER", "1")
    result = suite.runpytest()
    result.assert_outcomes(passed=1, skipped=1, errors=3)
    result.stdout.fnmatch_lines(
        ["*is missing but CAUCASUS_QA_REQUIRE_BROWSER is set; apt-get install chromium*"]
    )
    result.stdout.no_fnmatch_line("*DID NOT RUN*")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_with_chromium_present_the_browser_tests_run_and_nothing_is_said(suite, monkeypatch) -> None:
    monkeypatch.setenv("CAUCASUS_QA_CHROMIUM", sys.executable)  # any existing file stands in for it
    result = suite.runpytest()
    result.assert_outcomes(passed=4, skipped=1)  # the other skip is no browser test: no block for it
    result.stdout.no_fnmatch_line("*BROWSER TEST*")


def test_deselected_browser_tests_are_not_reported_as_missing(suite, monkeypatch, tmp_path) -> None:
    without_chromium(monkeypatch, tmp_path)
    result = suite.runpytest("-m", "not browser")  # `make test-fast` leaves them out on purpose
    result.assert_outcomes(passed=1, skipped=1, deselected=3)
    result.stdout.no_fnmatch_line("*BROWSER TEST*")
