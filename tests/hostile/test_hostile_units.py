"""Issue 17: unit changes and unit names the command line refuses cleanly.

Each case runs the real CLI in-process (exceptions not caught: a traceback fails the test)
against a copy of the hostile template log (conftest.py: districts D1 "UBND huyện Một", D2
"UBND huyện Hai", D3 from 2022, D4 retired after 2019; commune C1 "UBND xã Phước Hưng") and
checks: exit status 2, one `Error: ` line with the expected text, no traceback, the log
byte-identical.
"""

from __future__ import annotations

import pytest
from hostile_kit import snapshot
from test_hostile_inputs import Case

CHANGE = ("--date", "2021-07-01", "--reason", "sắp xếp", "--authority", "NQ 1/2021")


def units(*args):
    return lambda s, t: ("units", *args)


CASES = [
    Case("rename-unknown-unit", "", [("Error: ", "unknown unit 'ZZ'")],
         args=units("rename", "ZZ", "Tên mới", *CHANGE)),
    Case("rename-retired-unit", "", [("Error: ", "unit D4 (UBND huyện Bốn) is already retired: its last year is 2019")],
         args=units("rename", "D4", "Tên mới", *CHANGE)),
    Case("rename-to-the-same-name", "", [("Error: ", "unit D1 is already named 'UBND huyện Một' in 2021")],
         args=units("rename", "D1", "UBND huyện Một", *CHANGE)),
    Case("rename-to-an-empty-name", "", [("Error: ", "the new name must not be empty")],
         args=units("rename", "D1", "  ", *CHANGE)),
    Case("rename-reason-with-a-control-character", "", [("Error: ", "--reason: control character U+0007")],
         args=units("rename", "D1", "Tên mới", "--date", "2021-07-01", "--reason", "a\x07b",
                    "--authority", "NQ")),
    Case("rename-without-authority", "", [("Error: ", "Missing option '--authority'")],
         args=units("rename", "D1", "Tên mới", "--date", "2021-07-01", "--reason", "r")),
    Case("rename-date-not-a-date", "", [("Error: ", "Invalid value for '--date': '2021-13-01'")],
         args=units("rename", "D1", "Tên mới", "--date", "2021-13-01", "--reason", "r",
                    "--authority", "a")),
    Case("retire-before-the-unit-existed", "", [("Error: ", "unit D3 did not exist in 2020 (it exists from 2022)")],
         args=units("retire", "D3", *CHANGE)),
    Case("retire-twice", "", [("Error: ", "unit D4 (UBND huyện Bốn) is already retired")],
         args=units("retire", "D4", *CHANGE)),
    Case("merge-units-of-different-tiers", "", [("Error: ", "cannot merge units of different tiers: D1 (district), C1 (commune)")],
         args=units("merge", "D1", "C1", "--into", "D1", *CHANGE)),
    Case("merge-into-itself", "", [("Error: ", "merging D1 into itself changes nothing")],
         args=units("merge", "D1", "--into", "D1", *CHANGE)),
    Case("merge-a-unit-named-twice", "", [("Error: ", "unit D1 is named twice among the units merged")],
         args=units("merge", "D1", "D1", "--into", "N", "--name", "N", *CHANGE)),
    Case("merge-into-an-existing-unit-not-merged", "", [("Error: ", "--into D3 (UBND huyện Ba) is an existing unit that is not among the units merged")],
         args=units("merge", "D1", "D2", "--into", "D3", *CHANGE)),
    Case("merge-into-a-new-unit-without-a-name", "", [("Error: ", "--into N is a new unit: give its name with --name")],
         args=units("merge", "D1", "D2", "--into", "N", *CHANGE)),
    Case("merge-with-another-tier", "", [("Error: ", "--tier commune: the units merged are of tier district")],
         args=units("merge", "D1", "D2", "--into", "N", "--name", "N", "--tier", "commune", *CHANGE)),
    Case("merge-a-retired-unit", "", [("Error: ", "unit D4 (UBND huyện Bốn) is already retired")],
         args=units("merge", "D1", "D4", "--into", "D1", *CHANGE)),
    Case("split-into-one-unit", "", [("Error: ", "a split makes at least two units")],
         args=units("split", "D1", "--into", "D1:Một", *CHANGE)),
    Case("split-part-without-a-name", "", [("Error: ", "--into 'N1': write the new unit as ID:Name")],
         args=units("split", "D1", "--into", "N1", "--into", "N2:Hai", *CHANGE)),
    Case("split-into-an-existing-unit", "", [("Error: ", "unit id D2 is already used (UBND huyện Hai)")],
         args=units("split", "D1", "--into", "D2:Hai", "--into", "N2:Hai", *CHANGE)),
    Case("split-part-given-twice", "", [("Error: ", "--into N1 is given twice")],
         args=units("split", "D1", "--into", "N1:Một", "--into", "N1:Hai", *CHANGE)),
    Case("name-matching-several-units", "", [("Error: ", "'ubnd huyen' matches 2 units: D1 UBND huyện Một; D2 UBND huyện Hai")],
         args=units("rename", "ubnd huyen", "Tên mới", *CHANGE)),
    Case("explain-a-name-matching-several-units", "", [("Error: ", "'UBND HUYỆN' matches 2 units: D1 UBND huyện Một; D2 UBND huyện Hai")],
         args=lambda s, t: ("explain", "UBND HUYỆN", "--year", 2020)),
    Case("submit-to-a-name-matching-several-units", "", [("Error: ", "'huyen' matches 2 units")],
         args=lambda s, t: ("submit", "--year", 2020, "huyen", "computers_total", "5")),
    Case("submit-to-a-name-no-unit-has", "", [("Error: ", "unknown unit")],
         args=lambda s, t: ("submit", "--year", 2020, "huyen khong co", "computers_total", "5")),
]


def test_every_case_is_its_own_kind():
    assert len({c.id for c in CASES}) == len(CASES) >= 20


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_refused_unit_change_leaves_the_log_untouched(case, hostile_log, run, tmp_path):
    db, seqs = hostile_log
    before = snapshot(db)
    result = run(db, *case.args(seqs, tmp_path))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    for prefix, text in case.expect:
        hits = [line for line in result.stderr.splitlines() if line.startswith(prefix)]
        assert len(hits) == 1 and text in hits[0], (prefix, text, result.stderr)
    assert snapshot(db) == before
