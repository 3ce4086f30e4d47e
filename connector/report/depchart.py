"""The dependency picture between milestones as standalone SVG (matplotlib, deterministic): one box per
milestone in due-date order, an arrow from the milestone whose open items block to the one they block,
labelled with the number of blocked items; red when the blocker's milestone is due later.

Only plan text (milestone keys and titles) and numbers are drawn, never tracker titles; matplotlib
escapes the text it writes, and `charts.svg_for_inline` refuses scriptable content when inlined.
"""

from __future__ import annotations

from matplotlib import rc_context
from matplotlib.figure import Figure

from connector.report.charts import _HEALTH_COLOURS, _RC, _plain, _svg
from connector.report.hierarchy import OUTSIDE


def dependencies_svg(milestones, edges) -> str:
    """`milestones`: report MilestoneSections; `edges`: report DependencyEdges (an empty picture says so)."""
    order = sorted(milestones, key=lambda m: (m.due, m.key))
    x = {m.key: n for n, m in enumerate(order)}
    outside = any(e.blocker_milestone is None for e in edges)
    with rc_context({**_RC, "svg.hashsalt": "plansync-dependencies"}):
        fig = Figure(figsize=(max(4.0, 1.7 * max(len(order), 1)), 2.9 if outside else 2.2), dpi=72)
        ax = fig.add_subplot()
        ax.set_axis_off()
        for m in order:
            ax.text(x[m.key], 0, _plain(f"{m.key}\n{m.title[:18]}\ndue {m.due:%b %d}"), ha="center", va="center",
                    fontsize=7, bbox={"boxstyle": "round", "facecolor": "#f4f6f8",
                                      "edgecolor": _HEALTH_COLOURS.get(m.health, "#888888"), "linewidth": 1.5})
        if outside:
            ax.text((len(order) - 1) / 2, -1, OUTSIDE, ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "round", "facecolor": "#ffffff", "edgecolor": "#999999",
                          "linestyle": "--"})
        for e in edges:
            if e.milestone not in x:
                continue
            start = ((len(order) - 1) / 2, -1) if e.blocker_milestone is None else (x[e.blocker_milestone], 0)
            end = (x[e.milestone], 0)
            colour = "#c0392b" if e.later or e.blocker_milestone is None else "#555555"
            ax.annotate("", xy=end, xytext=start, arrowprops={
                "arrowstyle": "-|>", "color": colour, "lw": 1.1, "shrinkA": 26, "shrinkB": 26,
                "connectionstyle": "arc3,rad=-0.35" if start[1] == end[1] else "arc3,rad=0"})
            mid_x, mid_y = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + (0.45 if start[1] == end[1] else 0)
            ax.text(mid_x, mid_y, f"{e.items} blocked", ha="center", va="center", fontsize=7, color=colour)
        ax.set_xlim(-0.7, max(len(order) - 0.3, 0.7))
        ax.set_ylim(-1.5 if outside else -0.6, 1.0)
        ax.set_title("Dependencies between milestones (arrow: blocker -> blocked)" if edges
                     else "No item of one milestone is blocked by another's", loc="left", fontsize=8)
        return _svg(fig)
