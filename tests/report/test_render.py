"""Markdown, HTML and JSON output: content, escaping of hostile tracker text, files written."""

from __future__ import annotations

import json
import re

import pytest

from connector.report import build_report, render_html, render_json, render_markdown, write_report
from connector.report.charts import svg_for_inline
from connector.report.escape import md_link, md_text, safe_url
from tests.report import history as h


@pytest.fixture
def report(seeded, settings):
    return build_report(seeded, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)


@pytest.fixture
def hostile(hostile_store, settings):
    return build_report(hostile_store, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)


def test_markdown_leads_with_the_stale_tracker_then_the_objective(report):
    text = render_markdown(report)
    lines = [line for line in text.splitlines() if line.strip()]
    assert lines[0] == "# Checkout revamp: weekly report 2026-W48"
    assert lines[1].startswith("> **Stale data: tracker github**")
    assert lines[2].startswith("**Objective:** Ship the new checkout")
    for heading in ("## Milestones", "## What changed this week", "## Plan changes", "## Workload",
                    "## Unplanned work (2)", "## Risks", "## Cross-tracker drift (1)", "## Data freshness"):
        assert heading in text
    assert "[CHK-2](https://jira.example.test/browse/CHK-2)" in text
    assert "| beta: Public beta | OFF TRACK | 2/7 (29 %) | 3/10 | 2026-12-15 |" in text


def test_markdown_escapes_hostile_tracker_text(hostile):
    text = render_markdown(hostile)
    assert "<img" not in text and "<script" not in text and "<b>" not in text
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in text
    assert "&lt;script&gt;window.\\_\\_pwned=1&lt;/script&gt;" in text
    table_rows = [line for line in text.splitlines() if line.startswith("| [acme/web\\#10]")]
    assert table_rows and all(row.count(" | ") == 4 for row in table_rows)  # no cell broke out


@pytest.mark.parametrize("raw, expected", [
    ("a|b", "a\\|b"),
    ("line1\nline2\r\x00x", "line1 line2 x"),
    ("[click](javascript:alert(1))", "\\[click\\]\\(javascript:alert\\(1\\)\\)"),
    ("**bold** _it_ `code` # h ~s~ !", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\` \\# h \\~s\\~ \\!"),
    ("<script>x</script> & &amp;", "&lt;script&gt;x&lt;/script&gt; &amp; &amp;amp;"),
    ("ping @dana", "ping @\u200bdana"),
    ("evil\u202egnp.exe", "evil gnp.exe"),
])
def test_md_text(raw, expected):
    assert md_text(raw) == expected


def test_links_only_to_http_urls():
    assert md_link("X-1", "javascript:alert(1)") == "X-1"
    assert md_link("X-1", "data:text/html,<script>") == "X-1"
    assert md_link("X-1", "https://h.test/a b)c") == "[X-1](https://h.test/a%20b%29c)"
    assert safe_url("https://h.test/x\n)") == "https://h.test/x%29"
    assert safe_url("ftp://h.test/") is None


def test_html_escapes_hostile_text_and_inlines_one_chart_per_milestone(hostile):
    page = render_html(hostile)
    assert "<img src=x" not in page and "<script>" not in page and "<b>bold" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert page.count('class="burnup"') == len(hostile.milestones) == 3
    assert page.count('class="timeline"') == 1  # the milestone timeline, in the summary
    histograms = sum(1 for m in hostile.milestones if m.forecast.histogram)
    assert histograms >= 1 and page.count('class="histogram"') == histograms
    assert page.count('<svg role="img"') == 3 + 1 + histograms
    assert "http://" not in page.split("<body>")[0].replace("http://www.w3.org", "")  # nothing fetched
    assert "<script" not in page.lower().replace("&lt;script", "")


def test_html_refuses_an_svg_with_script():
    with pytest.raises(ValueError):
        svg_for_inline('<svg width="1"><script>alert(1)</script></svg>', title="x")
    with pytest.raises(ValueError):
        svg_for_inline('<svg width="1"><rect onload="alert(1)"/></svg>', title="x")


def test_json_is_stable_sorted_and_iso(report):
    text = render_json(report)
    data = json.loads(text)
    assert text == render_json(report)
    assert list(data) == sorted(data)
    assert data["schema_version"] == 2 and data["label"] == "2026-W48"
    assert data["as_of"] == "2026-11-26T12:00:00Z"
    assert data["stale_trackers"] == ["github"]
    beta = data["milestones"][0]
    assert beta["due"] == "2026-12-15" and beta["progress"]["percent"] == 29
    assert beta["burnup"][-1] == {"day": "2026-11-26", "done": 2, "scope": 7}
    assert [c["item"]["key"] for c in data["changes"] if c["kind"] == "completed"] == ["CHK-1"]
    assert any("Jira scope membership" in note for note in data["limitations"])


def test_write_report_writes_a_week_folder_latest_copies_charts_and_an_index(report, tmp_path):
    written = write_report(report, tmp_path / "out", ["md", "html", "json"])
    out = tmp_path / "out"
    week = out / "2026-W48"
    assert {fmt: p.relative_to(out).as_posix() for fmt, p in written.items()} == {
        "md": "2026-W48/plansync-report-2026-W48.md", "html": "2026-W48/plansync-report-2026-W48.html",
        "json": "2026-W48/plansync-report-2026-W48.json"}
    assert (out / "latest.json").read_text() == written["json"].read_text()
    charts = sorted(p.name for p in week.glob("*.svg"))
    assert charts == sorted([f"plansync-report-2026-W48-burnup-{k}.svg" for k in ("beta", "ga", "launch")]
                            + ["plansync-report-2026-W48-timeline.svg", "plansync-report-2026-W48-hist-beta.svg"])
    md = written["md"].read_text()
    assert "![burn-up of beta](plansync-report-2026-W48-burnup-beta.svg)" in md
    assert "![milestone timeline](plansync-report-2026-W48-timeline.svg)" in md
    # latest.md sits one folder up: its images point into the week's folder
    assert "![burn-up of beta](2026-W48/plansync-report-2026-W48-burnup-beta.svg)" in (out / "latest.md").read_text()
    index = (out / "index.html").read_text()
    assert 'href="2026-W48/plansync-report-2026-W48.html"' in index and 'href="latest.html"' in index
    assert not list(out.rglob(".*tmp"))  # no temp files left behind


def test_weeks_link_to_their_neighbours_and_latest_stays_the_newest(seeded, settings, tmp_path):
    out = tmp_path / "out"
    w48 = build_report(seeded, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)
    w47 = build_report(seeded, h.PLAN_NOW, settings, week="2026-W47", now=h.NOW)
    write_report(w48, out, ["html", "json"])
    write_report(w47, out, ["html", "json"])  # backfilled after the newer week
    assert json.loads((out / "latest.json").read_text())["label"] == "2026-W48"
    page47 = (out / "2026-W47" / "plansync-report-2026-W47.html").read_text()
    page48 = (out / "2026-W48" / "plansync-report-2026-W48.html").read_text()
    assert 'href="../2026-W48/plansync-report-2026-W48.html" rel="next"' in page47 and 'rel="prev"' not in page47
    assert 'href="../2026-W47/plansync-report-2026-W47.html" rel="prev"' in page48 and 'rel="next"' not in page48
    assert 'href="2026-W47/plansync-report-2026-W47.html" rel="prev"' in (out / "latest.html").read_text()
    index = (out / "index.html").read_text()
    assert index.index("2026-W48") < index.index("2026-W47")  # latest first
    assert "Forecast against actual" in index and index.count("<tr><td>2026-W4") >= 4


def test_write_report_rejects_unknown_formats(report, tmp_path):
    with pytest.raises(ValueError, match="pdf"):
        write_report(report, tmp_path, ["pdf"])


def test_chart_svg_has_size_and_no_tracker_text(hostile):
    from connector.report.html import chart_svgs

    svg = chart_svgs(hostile)["beta"]
    assert re.search(r'width="[1-9][\d.]*pt"', svg)
    assert "pwned" not in svg and "onerror" not in svg


def test_chart_text_is_escaped_in_svg_and_charts_are_deterministic(report):
    from dataclasses import replace

    from connector.report.charts import burnup_svg

    section = replace(report.milestones[0], title="<script>alert(1)</script> & $5 $x$")
    svg = burnup_svg(section)
    assert "<script" not in svg and "&lt;script&gt;" in svg
    svg_for_inline(svg, title=section.title)  # passes the script check
    assert burnup_svg(section) == svg  # same input, byte-identical chart (no dates, fixed ids)
    assert render_html(report) == render_html(report)
