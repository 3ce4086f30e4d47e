"""GitHub scopes: a repository, narrowed by at most one of a milestone, a label or a list of issues.
plansync evaluates them on the items' own fields (the adapter pulls each repository once)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar

from connector.model import Scope, WorkItem
from connector.trackers.github.normalize import split_key

_GITHUB_ITEM = re.compile(r"^[\w.-]+/[\w.-]+#\d+$")
_REPO = re.compile(r"^[\w.-]+/[\w.-]+$")
HINT = "a GitHub scope takes `repo` (with `milestone`, `label` or `items`)"


class GithubScope(Scope):
    kind: ClassVar[str] = "github"

    repo: str | None = None
    milestone: str | None = None
    label: str | None = None
    items: tuple[str, ...] | None = None

    def id_parts(self) -> tuple[str, ...]:
        # the field order of the first release: stored cursors and memberships keep their ids
        return ("", self.repo or "", self.milestone or "", self.label or "", ",".join(self.items or ()))

    def describe(self) -> str:
        what = self.repo or ""
        if self.milestone:
            what += f" milestone {self.milestone!r}"
        if self.label:
            what += f" label {self.label!r}"
        if self.items:
            what += f" items {', '.join(self.items)}"
        return f"{self.tracker}: {what}"

    def matches(self, item: WorkItem) -> bool:
        # case-insensitive, as GitHub treats repository names, milestone titles and labels
        if item.tracker != self.tracker:
            return False
        if self.repo and self.repo.casefold() != item.container.casefold():
            return False
        if self.items:
            return item.key.casefold() in {k.casefold() for k in self.items}
        if self.milestone is not None:
            return self.milestone.casefold() in {m.casefold() for m in item.milestones}
        if self.label is not None:
            return self.label.casefold() in {lb.casefold() for lb in item.labels}
        return True

    def container(self) -> str | None:
        return self.repo

    def index_hint(self) -> tuple[str, frozenset[str]] | None:
        if self.items:
            return ("key", frozenset(k.casefold() for k in self.items))
        if self.milestone is not None:
            return ("milestones", frozenset({self.milestone.casefold()}))
        if self.label is not None:
            return ("labels", frozenset({self.label.casefold()}))
        return None

    def named_milestones(self) -> tuple[tuple[str, str, frozenset[str]], ...]:
        if self.repo and self.milestone:
            return (("milestone", self.milestone, frozenset({self.repo.casefold()})),)
        return ()


def claims(raw: dict[str, Any]) -> bool:
    return bool({"repo", "milestone", "label"} & set(raw)) or any(
        isinstance(i, str) and "#" in i for i in raw.get("items") or ())


def problems(scope: GithubScope) -> Iterator[tuple[str, str | None]]:
    """What is wrong with a GitHub scope, as (message, key within the scope)."""
    narrowing = [k for k in ("milestone", "label", "items") if getattr(scope, k) is not None]
    if not scope.repo:
        yield "a GitHub scope needs `repo = \"owner/name\"`", None
        return
    if not _REPO.match(scope.repo):
        yield f"{scope.repo!r} is not a repository like \"acme/checkout-web\"", "repo"
        return
    if len(narrowing) > 1:
        yield f"give at most one of milestone/label/items in a scope (got {', '.join(narrowing)})", None
        return
    for item in scope.items or ():
        if not _GITHUB_ITEM.match(item):
            yield f"{item!r} is not an issue reference like \"acme/checkout-web#12\"", "items"
            return


def repos_for_scopes(scopes, tracker: str) -> list[str]:
    """The distinct repos (first-seen order) one tracker's scopes need: `repo`, and repos of `items` keys."""
    repos: dict[str, str] = {}
    for scope in scopes:
        if scope.tracker != tracker:
            continue
        named = [scope.repo] if getattr(scope, "repo", None) else []
        named += [split_key(key)[0] for key in getattr(scope, "items", None) or ()]
        for repo in named:
            repos.setdefault(repo.lower(), repo)
    return list(repos.values())
