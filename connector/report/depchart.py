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
        between = sum(1 for e in edges if e.blocker_milestone is not None)
        fig = Figure(figsize=(max(4.0, 1.7 * max(len(order), 1)), (2.9 if outside else 2.2) + 0.3 * between), dpi=72)
        ax = fig.add_subplot()
        ax.set_axis_off()
        for m in order:
            ax.text(x[m.key], 0, _plain(f"{m.key}\n{m.title[:20]}\ndue {m.due:%b %d}"), ha="center", va="center",
                    fontsize=7, zorder=3, bbox={"boxstyle": "round", "facecolor": "#f4f6f8",
                                      "edgecolor": _HEALTH_COLOURS.get(m.health, "#888888"), "linewidth": 1.5})
        if outside:
            ax.text((len(order) - 1) / 2, -1, OUTSIDE, ha="center", va="center", fontsize=7,
                    bbox={"boxstyle": "round", "facecolor": "#ffffff", "edgecolor": "#999999",
                          "linestyle": "--"})
        level = 0
        for e in edges:
            if e.milestone not in x:
                continue
            colour = "#c0392b" if e.later or e.blocker_milestone is None else "#555555"
            label = f"{e.items} blocked"
            if e.blocker_milestone is None:  # straight up from the box below
                start = ((len(order) - 1) / 2, -1)
                ax.annotate("", xy=(x[e.milestone], 0), xytext=start, arrowprops={
                    "arrowstyle": "-|>", "color": colour, "lw": 1.1, "shrinkA": 12, "shrinkB": 24})
                ax.text((start[0] + x[e.milestone]) / 2, -0.5, label, ha="center", va="center", fontsize=7,
                        color=colour, bbox={"facecolor": "white", "edgecolor": "none", "pad": 1})
                continue
            # between boxes: up from the blocker, across above the row, down into the blocked; each edge a
            # level higher so that crossings stay readable
            arm = 46 + 11 * level
            level += 1
            shift = 0.06 * (level % 4) - 0.09  # ends apart where two edges meet one box
            ax.annotate("", xy=(x[e.milestone] + shift, 0), xytext=(x[e.blocker_milestone] - shift, 0), zorder=1,
                        arrowprops={
                            "arrowstyle": "-|>", "color": colour, "lw": 1.1, "shrinkA": 0, "shrinkB": 19,
                            "connectionstyle": f"arc,angleA=90,angleB=90,armA={arm},armB={arm},rad=4"})
            ax.annotate(label, xy=((x[e.milestone] + x[e.blocker_milestone]) / 2, 0), xytext=(0, arm + 1),
                        textcoords="offset points", ha="center", va="bottom", fontsize=7, color=colour)
        ax.set_xlim(-0.7, max(len(order) - 0.3, 0.7))
        ax.set_ylim(-1.5 if outside else -0.6, 1.0 + 0.25 * level)
        ax.set_title("Dependencies between milestones (arrow: blocker -> blocked)" if edges
                     else "No item of one milestone is blocked by another's", loc="left", fontsize=8)
        return _svg(fig)
