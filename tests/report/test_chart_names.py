"""Issue #17 item 9: every milestone gets its own chart file, whatever its key (emoji, scripts other
than Latin, spaces against underscores, case), and the Markdown links each to its own chart."""

from __future__ import annotations

import re
from dataclasses import replace

from connector.report import build_report, write_report
from connector.report.output import chart_file_name
from tests.report import history as h

KEYS = ("🚀", "🎉", "ベータ", "アルファ", "q1 launch", "q1_launch", "Beta", "beta")


def test_chart_file_names_are_unique_per_milestone():
    names = [chart_file_name("2026-W48", key) for key in KEYS]
    assert len(set(names)) == len(KEYS)
    assert len({n.lower() for n in names}) == len(KEYS)  # case-insensitive disks too
    assert all(re.fullmatch(r"[A-Za-z0-9_.-]+", n) for n in names)
    assert chart_file_name("2026-W48", "beta") == "plansync-report-2026-W48-burnup-beta.svg"  # plain keys stay readable
    assert chart_file_name("2026-W48", "hist-🚀") != chart_file_name("2026-W48", "hist-🎉")


def test_the_markdown_links_each_milestone_to_its_own_chart(seeded, settings, tmp_path):
    report = build_report(seeded, h.PLAN_NOW, settings, week="2026-W48", now=h.NOW)
    report = replace(report, milestones=tuple(replace(report.milestones[0], key=k) for k in KEYS))
    paths = write_report(report, tmp_path, ("md",))
    text = paths["md"].read_text()
    linked = re.findall(r"\(([^)\s]*burnup[^)\s]*\.svg)\)", text)
    assert len(linked) == len(set(linked)) == len(KEYS)
    for link in linked:
        assert (paths["md"].parent / link).is_file()
