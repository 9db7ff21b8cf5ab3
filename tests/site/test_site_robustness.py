"""The site's robustness page (`site --robustness-samples N`): opt-in, linked, self-contained."""

from __future__ import annotations

import json
import re

from click.testing import CliRunner
from test_site_static import check_site

from ictindex.cli import build_cli
from ictindex.output import number_text


def test_robustness_page_shows_each_tiers_rank_intervals_as_the_command_does(sample_db, tmp_path,
                                                                             sample_site):
    cli = build_cli()
    runner = CliRunner()
    out = tmp_path / "site"
    r = runner.invoke(cli, ["--db", str(sample_db), "site", "--year", "2020", "--out", str(out),
                            "--as-of", "published", "--robustness-samples", "60", "--seed", "4"])
    assert r.exit_code == 0, r.output
    assert "Wrote 113 pages" in r.stdout
    assert check_site(out) == []
    page = (out / "robustness.html").read_text(encoding="utf-8")
    index = (out / "index.html").read_text(encoding="utf-8")
    for tier, units in (("department", 19), ("district", 8), ("commune", 82)):
        assert f'href="robustness.html#tier-{tier}"' in index
        section = page.split(f'<section id="tier-{tier}">')[1].split("</section>")[0]
        assert section.count("<circle") == units  # one published-rank dot per unit
        command = re.search(r"Tính lại: <code>ictindex --db \S+ (robustness [^<]*)</code>",
                            section).group(1)
        cmd = runner.invoke(cli, ["--db", str(sample_db), *command.split(), "--format", "json"])
        result = json.loads(cmd.stdout)
        for uid in result["most_robust"] + result["least_robust"]:
            u = next(x for x in result["units"] if x["unit_id"] == uid)
            median, p5, p95, keeps = (number_text(u[k]) for k in ("median", "p5", "p95", "keeps"))
            assert (f'<td class="num">{median}</td><td class="num">{p5}–{p95}'
                    f'</td><td class="num">{keeps}</td>') in section
    # without the option the site is as it was: no page, no link
    assert not (sample_site / "robustness.html").exists()
    assert "robustness.html" not in (sample_site / "index.html").read_text(encoding="utf-8")
