"""A throwaway tracker kind, "memo", that lives in tests only: an in-memory tracker whose issues sit in
buckets. It is registered through the registry alone; no core file knows it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

from connector.mapping import Mapped
from connector.model import Cursor, Scope, Status, WorkItem
from connector.settings import TrackerSettings
from connector.trackers.base import TrackerKind
from connector.values import Identity, LabelChange, PullResult, PullSpec, RequestStats, ScopePull, WriteResult

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


class MemoSettings(TrackerSettings):
    kind: Literal["memo"]


class MemoScope(Scope):
    kind: ClassVar[str] = "memo"
    bucket: str

    def id_parts(self) -> tuple[str, ...]:
        return (self.bucket,)

    def describe(self) -> str:
        return f"{self.tracker}: bucket {self.bucket}"

    def matches(self, item: WorkItem) -> bool:
        return item.tracker == self.tracker and item.container == self.bucket

    def container(self) -> str | None:
        return self.bucket


@dataclass(frozen=True)
class MemoMapping:
    source: str = "built in"

    def map(self, state: str) -> Mapped:
        return Mapped(Status.DONE if state == "closed" else Status.TODO, False)


@dataclass
class MemoIssue:
    number: int
    bucket: str
    title: str
    state: str = "open"
    labels: list[str] = field(default_factory=list)


# the tracker's contents, shared by every adapter in this process: what the test changes, plansync sees
ISSUES: dict[int, MemoIssue] = {}
WRITES: list[tuple[int, frozenset[str], frozenset[str]]] = []


class MemoAdapter:
    kind = "memo"

    def __init__(self, tracker, mapping, *, overlap_minutes: int = 5, policy: Any = None) -> None:
        self.tracker, self.mapping = tracker, mapping
        self.name = tracker.name
        self.stats = RequestStats()
        tracker.token()  # as real adapters do: the token is read when the adapter is built

    def _item(self, issue: MemoIssue) -> WorkItem:
        status = self.mapping.map(issue.state).status
        return WorkItem(tracker=self.name, id=str(issue.number), key=f"M-{issue.number}", container=issue.bucket,
                        url=f"{self.tracker.url}/{issue.number}", title=issue.title, type="note", status=status,
                        raw_status=issue.state, created=T0, updated=T0, labels=tuple(issue.labels),
                        resolved=T0 if status is Status.DONE else None)

    def check(self) -> Identity:
        return Identity(tracker=self.name, user="memo-bot", deployment="memory")

    def pull(self, request: PullSpec) -> PullResult:
        self.stats.requests += 1
        self.stats.reads += 1
        pulls = []
        for scope in request.scopes:
            items = tuple(self._item(i) for i in ISSUES.values() if i.bucket == scope.bucket)
            pulls.append(ScopePull(scope.id, items, complete=True, cursor=Cursor(self.name, scope.id, updated=T0)))
        seen = frozenset(str(n) for n in ISSUES)
        return PullResult(tracker=self.name, scopes=tuple(pulls), census=request.full,
                          seen_ids=seen if request.full else frozenset())

    def push_labels(self, change: LabelChange) -> WriteResult:
        issue = ISSUES[int(change.item_id)]
        self.stats.requests += 1
        self.stats.writes += 1
        WRITES.append((issue.number, change.add, change.remove))
        issue.labels = sorted((set(issue.labels) - change.remove) | change.add)
        return WriteResult(change, ok=True, requests=1, labels=tuple(issue.labels))

    def post_comment(self, issue: str, marker: str, body: str) -> str:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _claims(raw: dict) -> bool:
    return "bucket" in raw


def _problems(scope: MemoScope):
    if not scope.bucket.strip():
        yield "`bucket` is empty", "bucket"


KIND = TrackerKind(name="memo", title="Memo", settings=MemoSettings, scope=MemoScope,
                   adapter=f"{__name__}:MemoAdapter", load_mapping=lambda path: MemoMapping(str(path or "built in")),
                   claims=_claims, problems=_problems, scope_hint="a Memo scope takes `bucket`")


def reset(issues: list[MemoIssue]) -> None:
    ISSUES.clear()
    ISSUES.update({i.number: replace(i) for i in issues})
    WRITES.clear()


def mapping_path() -> Path | None:
    return None
