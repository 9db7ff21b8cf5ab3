"""The edition's golden cases (tests/golden/*.toml), run by the runner ictindex ships."""

from pathlib import Path

from methodologies.testing import golden_collector

pytest_collect_file = golden_collector(Path(__file__).parent / "golden")
