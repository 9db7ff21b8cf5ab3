"""Engine test fixtures, and the declarative golden cases (tests/engine/golden).

Golden cases are TOML data files run by the runner the package ships for edition packages,
`methodologies.testing` (its docstring and docs/methodologies.md describe the format).
"""

from __future__ import annotations

import sys
from pathlib import Path

from methodologies.testing import golden_collector

sys.path.insert(0, str(Path(__file__).parent))  # engine_testkit, for the engine tests

pytest_collect_file = golden_collector(Path(__file__).parent / "golden")
