"""Progress bars: drawn on a terminal, nothing at all otherwise."""

from __future__ import annotations

import io

import pytest

from ictindex import progress
from ictindex.app import Ictindex
from ictindex.site import build_site


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def no_setting(monkeypatch):
    monkeypatch.delenv("ICTINDEX_PROGRESS", raising=False)


def test_nothing_is_drawn_off_a_terminal():
    out = io.StringIO()
    assert not progress.enabled(out)
    assert list(progress.track(range(100), label="Importing", file=out)) == list(range(100))
    with progress.bar(100, label="Building", file=out) as b:
        for _ in range(100):
            b.update(1)
    assert out.getvalue() == ""


def test_a_bar_is_drawn_on_a_terminal():
    out = FakeTerminal()
    assert progress.enabled(out)
    assert list(progress.track(range(50), label="Importing", file=out)) == list(range(50))
    assert "Importing" in out.getvalue() and "50/50" in out.getvalue()
    out = FakeTerminal()
    with progress.bar(10, label="Building site", file=out) as b:
        for _ in range(10):
            b.update(1)
    assert "Building site" in out.getvalue() and "10/10" in out.getvalue()


def test_the_environment_variable_overrides(monkeypatch):
    monkeypatch.setenv("ICTINDEX_PROGRESS", "0")
    assert not progress.enabled(FakeTerminal())
    monkeypatch.setenv("ICTINDEX_PROGRESS", "1")
    assert progress.enabled(io.StringIO())


def test_iterables_without_a_length_and_tiny_jobs():
    out = FakeTerminal()
    gen = (i for i in range(5))
    assert list(progress.track(gen, label="Reading", file=out)) == list(range(5))
    out = FakeTerminal()
    assert list(progress.track([1], label="One", file=out)) == [1]
    assert out.getvalue() == ""  # one step: no bar


def test_site_build_prints_nothing_when_not_on_a_terminal(hostile_db, tmp_path, capfd):
    with Ictindex.open(hostile_db) as app:
        build_site(app, 2020, tmp_path / "s")
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
