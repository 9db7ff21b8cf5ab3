"""Vietnamese throughout: numbers as Vietnamese write them (84,03; 1.250) on the site and in the
annex's text (`--lang en`: 84.03; 1,250), rules and formulas explained in Vietnamese (a rule
kind's optional name_vi / formula_vi / terms_vi; an edition package without them still works),
no English words of the engine left on the pages; machine outputs unchanged."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal

import openpyxl
import pytest

from ictindex.app import Ictindex
from ictindex.errors import UsageError
from ictindex.output import number_text, numbers_in_text
from ictindex.site import build_site
from plugins.manager import build_registry


@pytest.mark.parametrize("value,lang,decimals,text", [
    (Decimal("84.03"), "vi", None, "84,03"), (Decimal("84.03"), "en", None, "84.03"),
    (1250, "vi", None, "1.250"), (1250, "en", None, "1,250"),
    (Decimal("12727"), "vi", None, "12.727"), (Decimal("-1234567.5"), "vi", None, "-1.234.567,5"),
    (Decimal("77.125"), "vi", 2, "77,12"), (Decimal("0.5"), "vi", None, "0,5"),
    (123, "vi", None, "123"), ("—", "vi", None, "—"), ("NaN", "en", None, "NaN"),
    ("12.50", "vi", None, "12,50"),
])
def test_number_text(value, lang, decimals, text):
    assert number_text(value, lang, decimals) == text


def test_numbers_in_text_leave_codes_and_categories_alone():
    assert numbers_in_text("12727 ÷ 12921 × 6 = 5.90991409…") == "12.727 ÷ 12.921 × 6 = 5,90991409…"
    assert numbers_in_text("HT1 “tcvn9250” → 1.5 + x2 = 2", "vi") == "HT1 “tcvn9250” → 1,5 + x2 = 2"
    assert numbers_in_text("85% × 4 = 3.4", "en") == "85% × 4 = 3.4"
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        number_text(1, "fr")


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_unit_pages_explain_rules_and_formulas_in_vietnamese(sample_site):
    page = (sample_site / "units" / "26656.html").read_text(encoding="utf-8")
    assert "Tỷ lệ giữa hai số (<code>ratio_of_counts</code>): a ÷ b × điểm tối đa" in page
    assert '<code class="formula">12.727 ÷ 12.921 × 6 = 5,90991409…</code>' in page
    assert ("điểm nền (server_room có) 1 + trường hợp tốt nhất: server_room_standard "
            "“tcvn9250” = “tcvn9250” → 2 = 3") in page
    assert "chấm 9 trên 10 = 9" in page and "national_portal có → 1,5" in page
    assert "2.054 văn bản" in page  # an input value with its unit
    sct = (sample_site / "units" / "SCT.html").read_text(encoding="utf-8")
    assert re.search(r"<dt>So với</dt><dd>giá trị tốt nhất: \d+,\d", sct)
    # Not one of the engine's English words is left in a formula, a rule or a peer's name.
    for path in sorted((sample_site / "units").glob("*.html")):
        html = path.read_text(encoding="utf-8")
        shown = " ".join(re.findall(r'<code class="formula">([^<]*)</code>', html)
                         + re.findall(r"<dt>(?:Quy tắc|So với)</dt><dd>(.*?)</dd>", html))
        words = set(re.findall(r"(?<![\w“_])(yes|no|missing|best|assessed|base|case|input|of)"
                               r"(?![\w”_])", re.sub(r"<code>[^<]*</code>", "", shown)))
        assert not words, (path.name, words)
        # a dot inside a formula's number only groups thousands: 12.727, never 5.9
        for f in re.findall(r'<code class="formula">([^<]*)</code>', html):
            for m in re.finditer(r"(?<![\w“])\d+((?:\.\d+)+)", f):
                assert all(len(g) == 3 for g in m.group(1).split(".")[1:]), (path.name, f)


def test_as_of_and_every_page_in_vietnamese(sample_site):
    index = (sample_site / "index.html").read_text(encoding="utf-8")
    assert "Tính đến: hiện tại" in index
    for name in ("index.html", "changes.html", "verify.html"):
        html = (sample_site / name).read_text(encoding="utf-8")
        # the commands (and codes) are as the command line takes them
        words = text_of(re.sub(r"<pre[^>]*>.*?</pre>|<code>.*?</code>", "", html, flags=re.S))
        assert "ictindex --db" not in words
        found = re.findall(r"\b(now|published|rank|samples|median|missing|points?|policy)\b",
                           words)
        assert not found, (name, found)


def test_robustness_page_and_chart_in_vietnamese_the_cli_chart_in_english(sample_db, tmp_path):
    with Ictindex.open(sample_db) as app:
        build_site(app, 2020, tmp_path / "site", show_progress=False, robustness_samples=20,
                   robustness_seed=3)
    page = (tmp_path / "site" / "robustness.html").read_text(encoding="utf-8")
    assert "thanh: 5–95% các thứ hạng của mẫu" in page and "of the sampled ranks" not in page
    assert "<h2>UBND cấp huyện 2020</h2>" in page
    assert re.search(r"trung vị \d+(,\d+)?, 5–95% \d+–\d+, giữ nguyên thứ hạng ở tỷ lệ \d+,\d{4}",
                     page)
    assert not re.search(r'<td class="num">\d+\.\d+</td>', page)


def test_lang_en_writes_points_with_a_decimal_point_and_nothing_else_changes(sample_db, tmp_path):
    with Ictindex.open(sample_db) as app:
        build_site(app, 2020, tmp_path / "vi", show_progress=False)
        build_site(app, 2020, tmp_path / "en", show_progress=False, lang="en")
        with pytest.raises(UsageError, match="unknown language 'fr'"):
            build_site(app, 2020, tmp_path / "fr", show_progress=False, lang="fr")
    assert not (tmp_path / "fr").exists()
    vi = (tmp_path / "vi" / "units" / "26656.html").read_text(encoding="utf-8")
    en = (tmp_path / "en" / "units" / "26656.html").read_text(encoding="utf-8")
    assert "12,727 ÷ 12,921 × 6 = 5.90991409…" in en and "77.13" in en
    # only numbers differ: with every number's marks removed, the pages are the same
    strip = lambda s: re.sub(r"(?<=\d)[.,](?=\d)", "", s)  # noqa: E731
    assert strip(vi) == strip(en)
    # the commands and hashes are as the command line writes them, in both
    assert "--as-of now" in vi and "4175:fb0765d09643715abbed0f3507f28b2c3b1364bde65cbb96e4b08151d5ef04ba" in vi


def test_an_edition_packages_rule_without_vietnamese_names_still_shows(installed_example,
                                                                       monkeypatch, tmp_path):
    """A rule kind written against the docs before name_vi existed: the site shows its name,
    its description and its formula (numbers in Vietnamese); the built-in ones beside it show
    their Vietnamese names."""
    monkeypatch.setenv("ICTINDEX_LOAD_PLUGINS", "example-province")
    registry = build_registry()
    assert not hasattr(registry.rules["target_share"], "name_vi")
    units = tmp_path / "units.csv"
    units.write_text("unit_id,tier,name,parent_id\nSCT,department,Sở Công Thương,\n"
                     "SNV,department,Sở Nội vụ,\n", encoding="utf-8")
    values = {"SCT": {"dossiers_total": "2000", "dossiers_online": "1500", "e_services_used": "40",
                      "data_sharing": "yes", "staff_computer_pct": "100", "security_incidents": "1",
                      "specialised_network": "yes", "certified_staff": "2", "council_score": "12.5"},
              "SNV": {"dossiers_total": "100", "dossiers_online": "20", "e_services_used": "60",
                      "data_sharing": "no", "staff_computer_pct": "90", "security_incidents": "0",
                      "specialised_network": "yes", "certified_staff": "0", "council_score": "10"}}
    with Ictindex.open(tmp_path / "log.db", registry=registry) as app:
        app.import_units(units, actor="tester")
        app.adopt("example-province@2023", 2023, actor="tester")
        for uid, vals in values.items():
            for ind, v in vals.items():
                app.submit(2023, uid, ind, v, actor="tester")
        build_site(app, 2023, tmp_path / "site", show_progress=False)
    page = (tmp_path / "site" / "units" / "SCT.html").read_text(encoding="utf-8")
    assert ("target_share (<code>target_share</code>): min(value ÷ target, 1) × max: points in "
            "proportion to a target set by the province") in page
    assert '<code class="formula">min(40 ÷ 50, 1) × 10 = 8</code>' in page
    assert "Tỷ lệ giữa hai số (<code>ratio_of_counts</code>)" in page
    assert "1.500 ÷ 2.000" in page


def test_a_rule_kinds_vietnamese_words_are_used(sample_site):
    """name_vi, formula_vi and terms_vi of a rule kind reach the page (the site's renderer)."""
    from types import SimpleNamespace

    from ictindex.site.render import Renderer

    rule = SimpleNamespace(name="target_share", description="min(value ÷ target, 1) × max",
                           name_vi="Tỷ lệ so với mục tiêu", formula_vi="min(giá trị ÷ mục tiêu, 1)",
                           terms_vi={"target": "mục tiêu", "input": "số liệu"})
    site = SimpleNamespace(app=SimpleNamespace(registry=SimpleNamespace(rules={"target_share": rule})))
    view = Renderer(site)
    assert view.rule_name("target_share") == "Tỷ lệ so với mục tiêu"
    assert view.rule_formula("target_share") == "min(giá trị ÷ mục tiêu, 1)"
    assert view.formula("input missing → 0; target 1250.5", "target_share") == \
        "số liệu thiếu số liệu → 0; mục tiêu 1.250,5"
    assert view.peer_name("target_share", "target") == "mục tiêu"
    assert Renderer(site, "en").formula("target 1250.5", "target_share") == "mục tiêu 1,250.5"


def test_annex_text_in_the_annexs_language_points_stay_numbers(sample_db, run, tmp_path):
    vi, en, published = tmp_path / "vi.xlsx", tmp_path / "en.xlsx", tmp_path / "p.xlsx"
    assert run(sample_db, "export", "--year", 2020, "--tier", "district", "--out", vi).exit_code == 0
    assert run(sample_db, "export", "--year", 2020, "--tier", "district", "--out", en,
               "--lang", "en").exit_code == 0
    assert run(sample_db, "export", "--year", 2020, "--tier", "district", "--out", published,
               "--as-of", "published").exit_code == 0
    about = lambda p, s: {r[0]: r[1] for r in openpyxl.load_workbook(p)[s].iter_rows(  # noqa: E731
        min_row=3, values_only=True)}
    assert about(vi, "Thông tin")["Tính đến"] == "hiện tại"
    assert about(published, "Thông tin")["Tính đến"] == "thời điểm công bố"
    assert about(en, "About")["As of"] == "now"
    for path in (vi, en):
        ws = openpyxl.load_workbook(path).worksheets[0]
        total = next(c for c in ws[2] if c.number_format == "0.00" and c.value > 50)
        assert isinstance(total.value, float) and f"{total.value:.2f}" == "88.93"
    # The CSV's points are as `rank --format json` prints them, in both languages.
    out = tmp_path / "vi.csv"
    assert run(sample_db, "export", "--year", 2020, "--tier", "district", "--out", out).exit_code == 0
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    expected = json.loads(run(sample_db, "rank", "--year", 2020, "--tier", "district",
                              "--format", "json").stdout)
    assert [r[-2] for r in rows[1:]] == [r["total"] for r in expected["rows"]]


def test_annex_headers_write_a_fractional_maximum_in_the_annexs_language(sample_db):
    import msgspec

    from ictindex import replay
    from ictindex.export import annex

    with Ictindex.open(sample_db) as app:
        r = replay.replay(app, 2020, "district")
        m = app.registry.methodology("local-ict@2020")
    tier = m.tiers["district"]
    comps = list(tier.components)
    comps[0] = msgspec.structs.replace(comps[0], max=Decimal("12.5"))
    m = msgspec.structs.replace(m, tiers={**m.tiers, "district": msgspec.structs.replace(
        tier, components=tuple(comps))})
    assert annex(r.ranking, m).headers[3].endswith("(12,5)")
    assert annex(r.ranking, m, lang="en").headers[3].endswith("(12.5)")
