"""docs/events.md stays true: its Python blocks run, its outputs and JSON examples are real."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "events.md"
GOLDEN = Path(__file__).parent / "golden"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def expected_output(block: str) -> list[str]:
    """The `# ...` comment lines that directly follow a print(...) line."""
    out, after_print = [], False
    for line in block.splitlines():
        if after_print and line.startswith("# "):
            out.append(line[2:])
            continue
        after_print = line.lstrip().startswith("print(")
    return out


def test_python_blocks_run_and_print_what_they_say(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "docs_events"}
    code = blocks("python")
    assert len(code) >= 5
    for block in code:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102
        assert buffer.getvalue().splitlines() == expected_output(block)


def test_json_examples_are_the_golden_bytes():
    golden = {p.read_bytes().decode("utf-8") for p in GOLDEN.glob("*.json")}
    examples = [b.strip() for b in blocks("json")]
    assert len(examples) == len(golden)
    for example in examples:
        assert example in golden
