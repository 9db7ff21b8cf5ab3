"""docs/examples/year/ (the filled sheets docs/year.md imports) is what
tests/docs/make_year_files.py writes: the files can be regenerated, and were not edited by hand."""

from __future__ import annotations

from make_year_files import FILES, OUT, entries, write


def test_the_filled_sheets_of_docs_year_md_are_reproduced_by_their_script(tmp_path):
    written = write(tmp_path)
    assert sorted(p.name for p in written) == sorted(FILES.values())
    assert sorted(p.name for p in OUT.iterdir()) == sorted(FILES.values())
    for path in written:
        assert entries(path) == entries(OUT / path.name), (
            f"docs/examples/year/{path.name} differs from what tests/docs/make_year_files.py "
            "writes: regenerate it with `.venv/bin/python tests/docs/make_year_files.py`")
