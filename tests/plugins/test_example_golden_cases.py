"""An edition package tests its figures with the golden-case runner ictindex ships
(`methodologies.testing`): the example package's own cases pass, and a wrong figure fails
naming the unit and the field."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

from methodologies.testing import load_cases, run_case
from plugins.manager import build_registry

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ictindex-edition-example"


def _installed():
    registry = build_registry()
    return {eid: e.methodology for eid, e in registry.editions.items()}, registry.rules


def test_the_example_packages_golden_cases_pass(installed_example, monkeypatch):
    monkeypatch.setenv("ICTINDEX_LOAD_PLUGINS", "example-province")
    editions, rules = _installed()
    cases = load_cases(EXAMPLE / "tests" / "golden" / "example_2023.toml")
    assert cases
    for case in cases:
        assert run_case(case, editions=editions, rules=rules) == []


def test_a_wrong_figure_is_named(installed_example, monkeypatch):
    monkeypatch.setenv("ICTINDEX_LOAD_PLUGINS", "example-province")
    editions, rules = _installed()
    case = copy.deepcopy(load_cases(EXAMPLE / "tests" / "golden" / "example_2023.toml")[0])
    case["expected"]["SCT"]["total"] = "80.49"
    assert run_case(case, editions=editions, rules=rules) == [
        "SCT: total expected 80.49, got 80.50 (exact 80.5)"]


def test_the_package_runs_its_cases_with_pytest(installed_example, tmp_path):
    """As docs/methodologies.md says: its conftest.py hands tests/golden to the runner, and
    `pytest` in the package collects and passes every case (the package found as installed:
    the fixture's dist-info in tmp_path)."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(EXAMPLE), str(tmp_path)]),
               ICTINDEX_LOAD_PLUGINS="example-province")
    done = subprocess.run([sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests"],
                          cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 1 passed in " in done.stdout
