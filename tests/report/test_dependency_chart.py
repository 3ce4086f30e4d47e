"""The dependency picture between milestones: self-contained SVG, plan text escaped, still inlinable; and the
inlining guard refuses real script while letting escaped text that reads like an event handler through."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from connector.report.charts import svg_for_inline
from connector.report.depchart import dependencies_svg
from connector.report.model import DependencyEdge

HOSTILE = '<img src=x onerror=alert(1)><script>alert("x")</script>'


def _milestones():
    return [SimpleNamespace(key="beta", title=HOSTILE, due=date(2027, 1, 10), health="at-risk"),
            SimpleNamespace(key="ga", title="General availability & more", due=date(2027, 3, 1), health="on-track")]


def test_the_picture_names_the_milestones_counts_the_blocked_items_and_escapes_titles():
    edges = (DependencyEdge("beta", "ga", 3, ("CHK-2", "CHK-9"), later=True),
             DependencyEdge("ga", None, 1, ("OPS-4",)))
    svg = dependencies_svg(_milestones(), edges)
    assert svg.lstrip().startswith("<?xml")
    assert "<image" not in svg and 'href="http' not in svg  # self-contained: nothing fetched to view it
    assert "3 blocked" in svg and "1 blocked" in svg and "(outside the plan)" in svg
    assert "<script" not in svg and "<img" not in svg
    assert "&lt;img src=x onerr" in svg  # the title, cut to fit its box, as escaped text
    inline = svg_for_inline(svg, title="Dependencies between milestones", css_class="timeline")
    assert inline.startswith("<svg role=\"img\"")


def test_the_same_input_draws_the_same_picture():
    edges = (DependencyEdge("beta", "ga", 2, ("CHK-2",), later=True),)
    assert dependencies_svg(_milestones(), edges) == dependencies_svg(_milestones(), edges)


@pytest.mark.parametrize("body", ['<svg><g onload="alert(1)"/></svg>', "<svg><script>x</script></svg>",
                                  '<svg><a href="javascript:alert(1)">x</a></svg>'])
def test_scriptable_svg_is_still_refused(body):
    with pytest.raises(ValueError):
        svg_for_inline(body, title="t")
