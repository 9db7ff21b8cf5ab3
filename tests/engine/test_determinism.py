"""Same log + same edition ⇒ the same bytes, in any process: different hash seeds, time zones
and locales must not change a ranking's, an explanation's or a diff's canonical JSON."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
SCRIPT = HERE / "determinism_script.py"

ENVIRONMENTS = [
    {"PYTHONHASHSEED": "0", "TZ": "UTC", "LC_ALL": "C"},
    {"PYTHONHASHSEED": "1", "TZ": "Asia/Ho_Chi_Minh", "LC_ALL": "C.UTF-8"},
    {"PYTHONHASHSEED": "4242", "TZ": "America/Los_Angeles", "LC_ALL": "vi_VN.UTF-8"},
]


def _run(extra: dict[str, str]) -> bytes:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONHASHSEED", "TZ", "LC_ALL", "LANG")}
    env.update(extra)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE)])
    env["PYTHONIOENCODING"] = "utf-8"
    proc = subprocess.run([sys.executable, str(SCRIPT)], env=env, cwd=str(ROOT),
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    return proc.stdout


def test_canonical_json_is_byte_identical_across_processes():
    outputs = [_run(env) for env in ENVIRONMENTS]
    assert outputs[0], "the script printed nothing"
    for env, out in zip(ENVIRONMENTS[1:], outputs[1:]):
        assert out == outputs[0], f"output differs under {env}"
    text = outputs[0].decode("utf-8")
    assert "Xã Cù Bị" in text and "Hội đồng thẩm định chấm lại" in text
    assert '"recorded_at":"2021-03-01T08:' in text  # UTC, whatever TZ says
