"""Jira scopes: a JQL (evaluated by Jira; members come from the pull), a parent (every descendant, read
level by level from Jira), or a list of issue keys; any of them narrowed by `type`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from connector.model import Scope, WorkItem

_JIRA_KEY = re.compile(r"^[A-Z][A-Z0-9_]+-\d+$")
# `fixVersion = "Beta"`, `fixversion = Beta`, `fixVersion = 'Beta 2'` (JQL field names are case-insensitive)
_FIX_VERSION = re.compile(r"""\bfixversion\s*=\s*(?:"([^"]*)"|'([^']*)'|([\w.\-]+))""", re.IGNORECASE)
_PROJECT = re.compile(r"""\bproject\s*=\s*(?:"([^"]*)"|'([^']*)'|([\w\-]+))""", re.IGNORECASE)
HINT = "a Jira scope takes `jql` (or `parent` with an issue key, or `items` with issue keys)"


class JiraScope(Scope):
    kind: ClassVar[str] = "jira"

    jql: str | None = None
    items: tuple[str, ...] | None = None
    parent: str | None = None  # every descendant of this issue, at any level (not the issue itself)

    @property
    def remote(self) -> bool:
        return self.jql is not None or self.parent is not None

    def id_parts(self) -> tuple[str, ...]:
        # the field order of the first release: stored cursors and memberships keep their ids
        first = (self.jql or "", "", "", "", ",".join(self.items or ()))
        return (*first, f"parent={self.parent.upper()}") if self.parent else first

    def describe(self) -> str:
        narrowed = f" type {self.type!r}" if self.type else ""
        if self.parent is not None:
            return f"{self.tracker}: parent {self.parent}{narrowed}"
        if self.jql is not None:
            return f"{self.tracker}: {self.jql}{narrowed}"
        return f"{self.tracker}: items {', '.join(self.items or ())}{narrowed}"

    def matches(self, item: WorkItem) -> bool:
        if self.remote:
            raise TypeError("a JQL scope is evaluated by Jira: use the stored membership")
        return item.tracker == self.tracker and item.key.casefold() in {k.casefold() for k in self.items or ()}

    def index_hint(self) -> tuple[str, frozenset[str]] | None:
        return ("key", frozenset(k.casefold() for k in self.items or ())) if not self.remote else None

    def named_milestones(self) -> tuple[tuple[str, str, frozenset[str]], ...]:
        """Versions a JQL names with `fixVersion = ...`, in the projects it names with `project = ...`."""
        if not self.jql:
            return ()
        projects = frozenset(_first_group(m).casefold() for m in _PROJECT.finditer(self.jql))
        return tuple(("version", _first_group(m), projects) for m in _FIX_VERSION.finditer(self.jql))


def _first_group(match: re.Match) -> str:
    return next(g for g in match.groups() if g is not None)


def claims(raw: dict[str, Any]) -> bool:
    """A scope table with no configured tracker is Jira's when it has a JQL, or keys and nothing else."""
    if isinstance(raw.get("parent"), str) and _JIRA_KEY.match(raw["parent"].strip()):
        return True
    return "jql" in raw or (set(raw) - {"tracker", "type"} == {"items"}
                            and all(isinstance(i, str) and _JIRA_KEY.match(i) for i in raw.get("items") or ()))


def problems(scope: JiraScope) -> Iterator[tuple[str, str | None]]:
    """What is wrong with a Jira scope, as (message, key within the scope)."""
    if scope.type is not None and not scope.type.strip():
        yield "`type` is empty; name an issue type such as \"Bug\"", "type"
        return
    if scope.parent is not None:
        if scope.jql is not None or scope.items is not None:
            yield "a parent scope takes `parent` (and optionally `type`), not `jql` or `items` too", None
        elif not _JIRA_KEY.match(scope.parent):
            yield f"{scope.parent!r} is not a Jira issue key like CHK-1", "parent"
        return
    if scope.jql is not None:
        if scope.items is not None:
            yield "a JQL scope takes only `tracker` and `jql`", None
        elif not scope.jql.strip():
            yield "`jql` is empty; Jira refuses unbounded searches", "jql"
        return
    if not scope.items:
        yield "a Jira scope needs `jql` or `items`", None
        return
    for item in scope.items:
        if not _JIRA_KEY.match(item):
            yield f"{item!r} is not a Jira issue key like CHK-12", "items"
            return
