"""Request accounting for the benchmarks: sandbox request records -> per-tracker reads, writes and 304s,
the physical minimum of a full pull, and the one results table.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field

PAGE_MAX = 100  # the largest issue page both trackers serve with full fields
TRACKER_OF_FLAVOUR = {"cloud": "jira", "server": "jira", "github": "github"}
READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class Tally:
    """One tracker's API cost: reads answered with a body, 304s apart, writes."""

    reads: int = 0
    not_modified: int = 0
    writes: int = 0

    @property
    def total(self) -> int:
        return self.reads + self.not_modified + self.writes

    def as_dict(self) -> dict:
        return {**asdict(self), "total": self.total}


def tally(records: Iterable) -> dict[str, Tally]:
    """Sandbox RequestRecords (method, status, flavour ...) -> {"jira": Tally, "github": Tally}.

    A 304 is a read that GitHub does not charge; it is counted apart and not as a read. Records of
    a flavour outside the two trackers (none today) are ignored rather than guessed.
    """
    out = {"jira": Tally(), "github": Tally()}
    for record in records:
        tracker = TRACKER_OF_FLAVOUR.get(record.flavour)
        if tracker is None:
            continue
        tallied = out[tracker]
        if record.status == 304:
            tallied.not_modified += 1
        elif record.method.upper() in READ_METHODS:
            tallied.reads += 1
        else:
            tallied.writes += 1
    return out


def pages(count: int, page_size: int = PAGE_MAX) -> int:
    """List requests needed for `count` items: at least one (an empty answer is still an answer)."""
    return max(1, math.ceil(count / page_size))


def physical_minimum(scope_sizes: Mapping[str, int], page_size: int = PAGE_MAX) -> int:
    """ceil(N/100) list requests per scope (Jira JQL scope or GitHub repo), nothing else."""
    return sum(pages(n, page_size) for n in scope_sizes.values())


@dataclass
class Row:
    """One measured case: what ran, its API cost per tracker, wall time and peak RSS of its process."""

    size: int
    latency_ms: int
    case: str
    jira: Tally = field(default_factory=Tally)
    github: Tally = field(default_factory=Tally)
    seconds: float | None = None
    peak_rss_mib: float | None = None
    minimum: int | None = None  # physical minimum of list requests, where the case has one
    exit_code: int | None = None
    note: str = ""
    setup_seconds: float | None = None  # interpreter start-up imports of the case's process, not in `seconds`

    @property
    def requests(self) -> int:
        return self.jira.total + self.github.total

    def as_dict(self) -> dict:
        return {"size": self.size, "latency_ms": self.latency_ms, "case": self.case,
                "jira": self.jira.as_dict(), "github": self.github.as_dict(), "requests": self.requests,
                "seconds": self.seconds, "peak_rss_mib": self.peak_rss_mib, "minimum": self.minimum,
                "exit_code": self.exit_code, "note": self.note,
                "setup_seconds": self.setup_seconds}


def _cost(t: Tally) -> str:
    """`reads/304s/writes`, the compact per-tracker cell."""
    return f"{t.reads}/{t.not_modified}/{t.writes}"


HEADER = ("issues", "lat", "case", "jira r/304/w", "github r/304/w", "requests", "minimum", "wall s",
          "peak MiB", "note")


def table_rows(rows: Iterable[Row]) -> list[tuple[str, ...]]:
    out = []
    for r in rows:
        out.append((f"{r.size:,}", f"{r.latency_ms}ms", r.case, _cost(r.jira), _cost(r.github), f"{r.requests:,}",
                    "" if r.minimum is None else f"{r.minimum:,}",
                    "" if r.seconds is None else f"{r.seconds:.2f}",
                    "" if r.peak_rss_mib is None else f"{r.peak_rss_mib:.0f}", r.note))
    return out


def render_table(rows: Iterable[Row], *, markdown: bool = False) -> str:
    """The results as a fixed-width text table, or as a Markdown table for RESULTS.md and the README."""
    body = table_rows(rows)
    if markdown:
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
        lines += ["| " + " | ".join(cells) + " |" for cells in body]
        return "\n".join(lines)
    widths = [max(len(h), *(len(c[i]) for c in body)) if body else len(h) for i, h in enumerate(HEADER)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip() for cells in body]
    return "\n".join(lines)
