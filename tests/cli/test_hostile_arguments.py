"""Every command of the CLI, with hostile arguments: no traceback, exit status 0, 1 or 2.

The commands are found by walking the click group (a command added later is covered without
touching this file); each gets arguments drawn from its own parameters' types: huge, negative
and non-numeric numbers, garbage and extreme as-of points, seqs 0/-1/huge, ids with control
characters, empty strings, missing files, a folder where a file is expected, next to plausible
values (so that the checks deep inside a command are reached too).  Every run uses a private
copy of the sample log, inside a private working folder, with exceptions not caught: an
exception escaping a command fails the test.  A refusal (exit 2) leaves the events untouched.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings, strategies as st

from ictindex.cli import build_cli

CLI = build_cli()

# Commands whose every accepted run takes long by design, and what they are checked with here.
# bench builds its own synthetic logs (minutes): its options are click ranges, and it is run
# here only with one or two values click refuses.
REFUSED_ONLY = {("bench",)}

HOSTILE_TEXT = [
    "", " ", "-", "--", "0", "-1", "99999999999999999999", "1e999999", "-1e999999", "NaN",
    "Infinity", "৪৪", "١٢", "１２", "²", "\x1b[31mred", "a\x00b", "a\nb", "\t=1", "\r",
    "x\u202eexe", "\u200b", "=HYPERLINK(\"http://x.example\",\"x\")", "=cmd|' /C calc'!A0",
    "@SUM(1+1)", "+1", "CON", "nul.txt", "x" * 3000, "../../outside", "seq:-1", "seq:",
    "#0", "#99999999999999999999", "0221-06-16", "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-05:00", "2021-02-30", "2021-06-16T00:00:00", "1:" + "0" * 64,
    "-1:" + "a" * 64, "99999999999999999999:" + "a" * 64, "5:" + "A" * 64, "5:zz",
]
PLAUSIBLE_TEXT = [
    "SCT", "26656", "753", "local-ict@2020", "national-ict@2020", "local-dti@2022",
    "computers_total", "dossiers_online", "department", "district", "12", "0.5", "1",
    "5", "200", "4174", "4175", "now", "published", "2021-04-01", "seq:3000",
    "2021-06-16T00:00:00Z", "1018/QĐ-UBND", "recount",
]
HOSTILE_INT = ["0", "-1", "1", "2020", "2021", "9999", "10000", "99999999999999999999",
               "-99999999999999999999", "abc", "", "1e5", "৪৪", " 7", "2020.0"]
REFUSED = ["abc", "", "1e999", "2020.5"]  # refused by int, float and choice alike
HOSTILE_FLOAT = ["0", "-1", "0.5", "1e999", "nan", "inf", "abc", ""]
# Files, relative to the working folder each run gets (see _workdir).
FILES = ["good.csv", "units.csv", "junk.csv", "junk.xlsx", "empty.csv", "missing.csv",
         "a-folder", "missing/out.csv", "", "out.csv", "out.xlsx", "out.ods", "site-out",
         "a-folder/out.csv", "CON", "x" * 300 + ".csv"]
SUBMISSIONS = "year,unit_id,indicator,value,evidence,note\n2020,SCT,computers_total,29,CV 1,\n"
UNITS = "unit_id,tier,name,parent_id\nNEW1,department,=HYPERLINK(\"x\"),\n"


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield path + (name,), command
            yield from _commands(command, path + (name,))
        else:
            yield path + (name,), command


COMMANDS = list(_commands(CLI))


def _values(param: click.Parameter, refused_only: bool, hostile: bool) -> st.SearchStrategy[str]:
    """A value for `param`: a plausible one, or (`hostile`) one meant to break it."""
    t = param.type
    if refused_only and isinstance(t, (click.types.IntParamType, click.types.FloatParamType,
                                       click.Choice)):
        return st.sampled_from(REFUSED)
    if isinstance(t, click.Choice):
        return st.sampled_from(["", "nope", "DEPARTMENT", "x\x1b"] if hostile else list(t.choices))
    if isinstance(t, click.types.IntParamType):
        return st.sampled_from(HOSTILE_INT if hostile else ["2020", "1", "5"])
    if isinstance(t, click.types.FloatParamType):
        return st.sampled_from(HOSTILE_FLOAT if hostile else ["0.1"])
    if isinstance(t, click.Path):
        return st.sampled_from(FILES)
    if hostile:
        return st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=12))
    return st.sampled_from(PLAUSIBLE_TEXT)


@st.composite
def _arguments(draw, command: click.Command, refused_only: bool) -> list[str]:
    """Plausible values for every parameter but one or two, which get hostile ones."""
    params = [p for p in command.params
              if isinstance(p, click.Argument) or (isinstance(p, click.Option) and not p.hidden)]
    valued = [i for i, p in enumerate(params) if not getattr(p, "is_flag", False)]
    hostile = set(draw(st.lists(st.sampled_from(valued), min_size=1,
                                max_size=2))) if valued else set()
    args: list[str] = []
    for i, param in enumerate(params):
        values = _values(param, refused_only and i in hostile, i in hostile)
        if isinstance(param, click.Argument):
            args.append(draw(values))
            continue
        flag = param.opts[-1]
        if param.is_flag:
            if draw(st.booleans()):
                args.append(flag)
            continue
        if param.required or i in hostile or draw(st.booleans()):
            count = draw(st.integers(1, 2)) if param.multiple else 1
            for _ in range(count):
                args.extend([flag, draw(values)])
    return args


def _events(db: Path) -> list:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT seq, hash FROM events ORDER BY seq").fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def workspace(sample_db, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hostile-args")
    (root / "good.csv").write_text(SUBMISSIONS, encoding="utf-8")
    (root / "units.csv").write_text(UNITS, encoding="utf-8")
    (root / "junk.csv").write_bytes(bytes(range(256)) * 8)
    (root / "junk.xlsx").write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)
    (root / "empty.csv").write_bytes(b"")
    (root / "a-folder").mkdir()
    (root / "template.db").write_bytes(sample_db.read_bytes())
    return root


_count = iter(range(10**9))


def _workdir(workspace: Path) -> tuple[Path, Path]:
    """A fresh working folder holding the input files and a copy of the sample log."""
    work = workspace / f"run-{next(_count)}"
    shutil.copytree(workspace, work, ignore=shutil.ignore_patterns("run-*", "template.db"))
    db = work / "log.db"
    shutil.copy(workspace / "template.db", db)
    return work, db


@pytest.mark.parametrize("path,command", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_a_command_with_hostile_arguments_exits_0_1_or_2_without_a_traceback(
        path, command, workspace, monkeypatch):
    refused_only = path in REFUSED_ONLY
    monkeypatch.setenv("ICTINDEX_ACTOR", "tester")

    @settings(max_examples=15, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(args=_arguments(command, refused_only))
    def run(args):
        work, db = _workdir(workspace)
        before = _events(db)
        monkeypatch.chdir(work)
        result = CliRunner().invoke(CLI, ["--db", str(db), *path, *args], catch_exceptions=False)
        output = result.output + (result.stderr or "")
        assert "Traceback" not in output, (args, output)
        assert result.exit_code in (0, 1, 2), (args, result.exit_code, output)
        if refused_only:
            assert result.exit_code == 2, (args, output)
        if result.exit_code == 2:
            assert _events(db) == before, (args, output)
        shutil.rmtree(work)

    run()
