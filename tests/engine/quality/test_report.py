"""The HTML report: renders, self-contained, a plot for every column, the scenario section."""

import base64
import json
import os
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from engine.cli import main
from engine.datasets import QUICKSTART_SCENARIO, quickstart_frame
from engine.errors import SimioError
from engine.quality import build_report
from engine.quality.report import DEFAULT_TITLE
from tests.engine.quality._data import draw

VOID = {"meta", "img", "br", "hr", "link", "input", "col", "area", "base", "wbr", "source"}


class _Page(HTMLParser):
    """Collects tags, attributes and text; checks that non-void elements nest properly."""

    def __init__(self):
        super().__init__()
        self.stack, self.tags, self.text, self.errors = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:]}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    def find(self, tag, **attrs):
        return [a for t, a in self.tags if t == tag
                and all(a.get(k) == v for k, v in attrs.items())]


def parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert parser.errors == [] and parser.stack == [], (parser.errors, parser.stack)
    return parser


def assert_self_contained(page: str, parser: _Page) -> None:
    assert "://" not in page                   # no URL of any scheme (base64 has no ':')
    assert not parser.find("script") and not parser.find("link") and not parser.find("iframe")
    assert "@import" not in page and "url(" not in page
    for _, attrs in parser.tags:
        if "src" in attrs:
            assert attrs["src"].startswith("data:image/png;base64,")
            png = base64.b64decode(attrs["src"].split(",", 1)[1], validate=True)
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
        if "href" in attrs:
            assert attrs["href"].startswith("#")


@pytest.fixture(scope="module")
def tables():
    real, synth = draw(600, seed=1), draw(900, seed=2)
    return real, synth


def test_report_renders_with_a_plot_for_every_column(tables):
    real, synth = tables
    page = build_report(real, synth)
    parser = parse(page)
    assert_self_contained(page, parser)
    assert page.startswith("<!DOCTYPE html>")
    figures = parser.find("figure", **{"class": "column"})
    assert [f["data-column"] for f in figures] == list(real.columns)
    for f in figures:                           # each column's figure holds its image
        assert any(a.get("alt") == f"distribution of {f['data-column']}"
                   for a in parser.find("img"))
    text = " ".join(parser.text)
    assert DEFAULT_TITLE in text
    for heading in ("Scores", "Column distributions", "Pairwise association differences"):
        assert heading in text
    assert "Scenario" not in text
    assert len(parser.find("img", alt="pairwise association difference heatmap")) == 1


def test_scores_in_the_report_are_quality_reports(tables):
    from engine.quality import quality_report

    real, synth = tables
    page = build_report(real, synth)
    q = quality_report(real, synth)
    assert f"{q.score:.3f}" in page
    assert f"{q.shapes_score:.3f}" in page and f"{q.trends_score:.3f}" in page


def test_report_is_deterministic(tables):
    real, synth = tables
    assert build_report(real, synth, title="t") == build_report(real, synth, title="t")


def test_awkward_columns_are_plotted_and_escaped():
    rng = np.random.default_rng(0)
    n = 300
    real = pd.DataFrame({
        "<b>&\"odd\"": rng.normal(size=n),
        "many_levels": [f"level-{i}" for i in rng.integers(0, 60, n)],
        "all_missing": np.full(n, np.nan),
        "flag": rng.random(n) < 0.3,
        "constant": np.ones(n),
        "only_real": rng.integers(0, 5, n),
    })
    synth = real.drop(columns="only_real").sample(frac=1.0, random_state=1)
    synth["only_synth"] = "x"
    page = build_report(real, synth)
    parser = parse(page)
    assert_self_contained(page, parser)
    shown = [f["data-column"] for f in parser.find("figure", **{"class": "column"})]
    assert shown == list(real.columns) + ["only_synth"]
    assert '<b>&"odd"' not in page                     # the column name is escaped
    assert "&lt;b&gt;&amp;&quot;odd&quot;" in page
    assert "only in real: only_real" in page


def test_numeric_column_read_as_text_is_compared_as_numbers():
    real = quickstart_frame(300)
    synth = real.assign(age=real["age"].astype(str).where(real.index % 50 != 0, "n/a"))
    page = build_report(real, synth)
    parse(page)
    assert "synthetic: mean" in page                # age is summarised as a number


def test_scenario_section_shows_targets_achieved_and_ranges():
    seed = quickstart_frame()
    from engine import Synthesizer

    synth = Synthesizer().fit(seed).sample(3000, seed=3,
                                           conditions=QUICKSTART_SCENARIO["conditions"])
    page = build_report(seed, synth, scenario=QUICKSTART_SCENARIO)
    parser = parse(page)
    assert_self_contained(page, parser)
    shares = [f["data-column"] for f in parser.find("figure", **{"class": "share"})]
    assert shares == ["segment", "channel"]
    text = " ".join(parser.text)
    assert "Scenario: target vs achieved" in text
    assert "Rows requested 5,000, generated 3,000" in text       # row_count of the body
    assert "Numeric ranges" in text and "purchase_intent" in text
    for level in ("Premium", "Mainstream", "Value", "Online", "Retail", "Club"):
        assert level in text
    # the achieved shares are the conditioning report's
    premium = (synth["segment"].astype(str) == "Premium").mean()
    assert f"{premium:.4f}" in text
    # a bare conditions object gives the same section, rows requested = rows generated
    bare = build_report(seed, synth, scenario=QUICKSTART_SCENARIO["conditions"])
    assert "Rows requested 3,000, generated 3,000" in bare


def test_a_scenario_report_leads_with_the_scenario_not_a_red_score():
    from engine import Synthesizer
    from engine.quality import quality_report

    seed = quickstart_frame()
    synth = Synthesizer().fit(seed).sample(3000, seed=3,
                                           conditions=QUICKSTART_SCENARIO["conditions"])
    page = build_report(seed, synth, scenario=QUICKSTART_SCENARIO)
    parse(page)
    lead = page.index('id="scenario-summary"')
    assert lead < page.index('id="scores"') < page.index('id="scenario"')
    summary = page[lead:page.index('id="scores"')]
    assert "3,000 of 5,000" in summary and "partial" in summary
    assert "age 25 to 44: held" in summary and "purchase_intent 70 to 100: held" in summary
    q = quality_report(seed, synth)
    # region is the one column the scenario does not name; no pair lacks a named column
    assert f"{q.column_shapes['region']:.3f}" in summary and "vs the seed: region" in summary
    assert "none: every pair has a conditioned column" in summary
    scores = page[page.index('id="scores"'):page.index('id="scenario"')]
    assert f'<b class="">{q.score:.3f}</b>' in scores          # shown, not graded
    assert "the scenario at work, not a defect" in scores
    assert 'class="poor"' in build_report(seed, synth)   # ungraded only under a scenario
    assert 'class="poor"' not in scores


def test_scenario_lead_scores_the_pairs_it_does_not_name():
    from engine.quality import quality_report

    seed = quickstart_frame()
    conditions = {"categorical": {"segment": {"Premium": 0.5, "Mainstream": 0.3,
                                              "Value": 0.2}}}
    page = build_report(seed, seed, scenario=conditions)
    q = quality_report(seed, seed)
    free = [s for pair, s in q.pair_trends.items() if "segment" not in pair]
    assert len(free) == 6                        # 4 free columns -> 6 pairs
    summary = page[page.index('id="scenario-summary"'):page.index('id="scores"')]
    assert f"{np.mean(free):.3f}" in summary and "over the 6 pairs" in summary
    assert "no numeric ranges" in summary and "5,000" not in summary


def test_scenario_violations_are_reported():
    seed = quickstart_frame()
    conditions = {"numeric": {"age": {"min": 30, "max": 40}},
                  "categorical": {"segment": {"Premium": 0.9, "Value": 0.1}}}
    page = build_report(seed, seed, scenario=conditions)
    outside = int((~seed["age"].between(30, 40)).sum())
    assert f"<td>{outside:,}</td>" in page
    assert "Scenario: range violations" in page


@pytest.mark.parametrize("scenario, code", [
    ([1, 2], "simio_invalid_field"),
    ({"conditions": "x"}, "simio_invalid_field"),
    ({"cats": {}}, "simio_invalid_field"),
    ({"categorical": {"nope": {"a": 1.0}}}, "simio_unknown_condition_column"),
    ({"categorical": {"segment": {"Premium": "lots"}}}, "simio_invalid_share"),
    ({"numeric": {"age": {"min": "a"}}}, "simio_invalid_range"),
    ({"numeric": {"age": {"low": 3}}}, "simio_invalid_range"),
    ({"conditions": {}, "row_count": -1}, "simio_invalid_field"),
])
def test_malformed_scenarios_are_simio_errors(scenario, code):
    seed = quickstart_frame(100)
    with pytest.raises(SimioError) as info:
        build_report(seed, seed, scenario=scenario)
    assert info.value.code == code


def test_tables_without_shared_columns_are_refused():
    with pytest.raises(SimioError):
        build_report(pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": [1, 2]}))


# -- the CLI -------------------------------------------------------------------------------

def test_cli_report_writes_the_html(tmp_path):
    seed = quickstart_frame(400)
    real, synth = tmp_path / "real.csv", tmp_path / "synth.parquet"
    seed.to_csv(real, index=False)
    seed.sample(frac=1.0, random_state=0).to_parquet(synth)
    scenario = tmp_path / "scenario.json"
    scenario.write_text(json.dumps(QUICKSTART_SCENARIO))
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(real), str(synth), "--scenario",
                                       str(scenario), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "5 columns compared" in result.output
    page = out.read_text(encoding="utf-8")
    parser = parse(page)
    assert_self_contained(page, parser)
    assert [f["data-column"] for f in parser.find("figure", **{"class": "column"})] == \
        list(seed.columns)
    assert sorted(os.listdir(tmp_path)) == ["real.csv", "report.html", "scenario.json",
                                            "synth.parquet"]        # no temp file left


def test_cli_report_reads_an_arrow_output(tmp_path):
    from engine.io import write_table

    seed = quickstart_frame(200)
    real, synth = tmp_path / "real.parquet", tmp_path / "synth.arrow"
    seed.to_parquet(real)
    write_table(seed, synth, "arrow")
    out = tmp_path / "r.html"
    result = CliRunner().invoke(main, ["report", str(real), str(synth), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_file()


@pytest.mark.parametrize("case", ["missing_file", "bad_scenario", "no_output_dir"])
def test_cli_report_errors_are_one_line_exit_2(tmp_path, case):
    real = tmp_path / "real.csv"
    quickstart_frame(50).to_csv(real, index=False)
    args = ["report", str(real), str(real), "-o", str(tmp_path / "r.html")]
    if case == "missing_file":
        args[2] = str(tmp_path / "nope.csv")
    elif case == "bad_scenario":
        bad = tmp_path / "s.json"
        bad.write_text("{not json")
        args += ["--scenario", str(bad)]
    else:
        args[-1] = str(tmp_path / "nowhere" / "r.html")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.startswith("error: simio_")
    assert not (tmp_path / "r.html").exists()
