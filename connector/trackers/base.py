"""What a tracker kind gives the core (`TrackerKind`) and what its adapter provides (`TrackerAdapter`).

A kind is data plus a few functions: its config model, its scope model, the identity key a person has
in it, its mapping loader, where its adapter lives, comment limits and report notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from connector.model import Scope
from connector.values import Identity, LabelChange, PullResult, PullSpec, RequestStats, WriteResult


@runtime_checkable
class TrackerAdapter(Protocol):
    """One configured tracker's API. Knows HTTP and the vendor's JSON, nothing about plans or the store:
    `pull` returns data, the caller stores it in one transaction; `push_labels` makes one item's diff."""

    name: str
    kind: str
    stats: RequestStats

    def check(self) -> Identity:
        """Credentials and reachability; raises AuthError / FatalAPIError with one clear line."""
        ...

    def pull(self, request: PullSpec) -> PullResult:
        """Pull every scope (incrementally from `request.cursors`, or fully). Never writes anything."""
        ...

    def push_labels(self, change: LabelChange) -> WriteResult:
        """Add and remove owned labels on one item, without touching any other label."""
        ...

    def post_comment(self, issue: str, marker: str, body: str) -> str:
        """Create or edit (found by `marker`) a comment on `issue`; returns the comment id."""
        ...

    def close(self) -> None:
        ...


def _any_label(label: str) -> str | None:
    return None


def _exact(label: str) -> str:
    return label


@dataclass(frozen=True)
class TrackerKind:
    """Everything specific to one tracker kind, registered once in connector.trackers.registry."""

    name: str  # the `kind` value in config.toml
    title: str  # for people: "Jira", "GitHub"
    settings: type  # its TrackerSettings subclass (with `kind: Literal[name]`)
    scope: type[Scope]  # its Scope subclass
    adapter: str  # "module:Class", imported only when a run needs it (the HTTP stack stays out of the core)
    load_mapping: Callable[[Path | None], Any]  # its mapping file -> a mapping with `.map(...)` and `.source`
    claims: Callable[[dict[str, Any]], bool]  # whether a scope table is this kind's when no config says
    problems: Callable[[Any], Iterator[tuple[str, str | None]]]  # a parsed scope's faults: (message, key)
    scope_hint: str  # "a Jira scope takes `jql` (or `items` with issue keys)": for a scope on the wrong kind
    identity: str = ""  # the key a person has in it under [people.x]; default: the kind's name
    comment_limit: int = 32_000  # largest comment body the tracker takes, in characters
    report_notes: tuple[str, ...] = ()  # limitations the report states when a tracker of this kind is used
    loggers: tuple[str, ...] = ()  # its vendor libraries' loggers, kept quiet below warning
    # why the tracker would refuse a label name (None: it takes it); checked offline against the prefix
    label_problem: Callable[[str], str | None] = _any_label
    # a label name as the tracker compares names (GitHub: case-insensitively); identity by default
    fold_label: Callable[[str], str] = _exact

    @property
    def identity_key(self) -> str:
        return self.identity or self.name

    def make_adapter(self, tracker: Any, mapping: Any, *, overlap_minutes: int = 5,
                     policy: Any = None) -> TrackerAdapter:
        """Import the adapter now (its HTTP stack with it) and build it; `policy`: a connector.http.RetryPolicy."""
        from connector.http import RetryPolicy

        module_name, _, class_name = self.adapter.partition(":")
        cls = getattr(import_module(module_name), class_name)
        return cls(tracker, mapping, overlap_minutes=overlap_minutes, policy=policy or RetryPolicy())
