"""The sandbox's GitLab: groups, projects, milestones, iterations and issues of the "acme" org, generated
from a random stream of its own (the Jira and GitHub data stay exactly as they were), and the changes
tests and the simulation make to them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime

DAY = 86400.0
GROUPS = (("acme", 9_100), ("acme/platform", 9_101))
# full path, id, share of the issues
PROJECTS = (("acme/platform/checkout", 9_200, 0.6), ("acme/platform/mobile", 9_201, 0.4))
# title, days from now to due, state ("active" | "closed")
PROJECT_MILESTONES = (("Alpha", -20, "closed"), ("Beta", 22, "active"), ("GA", 70, "active"))
GROUP_MILESTONES = (("Q4 launch", 38, "active"),)
ITERATIONS = (("Sprint 11", -23, "closed"), ("Sprint 12", -9, "current"), ("Sprint 13", 5, "upcoming"))
LABELS = ("bug", "feature", "blocked", "in progress", "wontfix", "payments")
MIX = {  # per milestone: weights of done, in progress, blocked, to do, won't do, duplicate
    "Alpha": (0.93, 0, 0, 0, 0.04, 0.03),
    "Beta": (0.42, 0.22, 0.08, 0.24, 0.02, 0.02),
    "GA": (0.12, 0.16, 0.03, 0.65, 0.02, 0.02),
    None: (0.5, 0.12, 0.02, 0.3, 0.03, 0.03),
}
KINDS = ("done", "in progress", "blocked", "todo", "wontfix", "duplicate")
WORDS = ("cart", "payment", "retry", "webhook", "wallet", "push", "offline", "refund", "latency", "login")


@dataclass(slots=True)
class GitlabIssue:
    id: int
    project: str
    iid: int
    title: str
    description: str
    author: int  # person index
    state: str  # opened | closed
    created_at: float
    updated_at: float
    closed_at: float | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[int] = field(default_factory=list)
    milestone: int | None = None  # milestone id (project or group)
    iteration: int | None = None  # iteration id
    weight: int | None = None
    duplicate_of: int | None = None  # issue id of the original when closed as a duplicate
    moved_to_id: int | None = None
    deleted: bool = False
    notes: list[dict] = field(default_factory=list)


@dataclass
class GitlabState:
    people: list[dict]
    groups: dict[str, dict]
    projects: dict[str, dict]  # path -> {id, path, name, group, labels{}}
    milestones: dict[int, dict]  # id -> {id, iid, title, state, due, start, project | group}
    iterations: dict[int, dict]
    issues: dict[int, GitlabIssue] = field(default_factory=dict)  # by global id
    by_ref: dict[tuple[str, int], int] = field(default_factory=dict)  # (project, iid) -> id
    next_id: int = 70_000
    next_note: int = 900_000
    version: int = 0
    rate_limit: int = 2000  # GitLab.com's authenticated API limit, per minute
    lock: object = None

    def bump(self) -> None:
        self.version += 1

    def issue(self, project: str, iid: int) -> GitlabIssue:
        return self.issues[self.by_ref[(project, iid)]]

    def project_by_ref(self, ref: str) -> dict | None:
        if ref.isdigit():
            return next((p for p in self.projects.values() if p["id"] == int(ref)), None)
        return self.projects.get(ref) or next((p for k, p in self.projects.items() if k.lower() == ref.lower()), None)

    def group_by_ref(self, ref: str) -> dict | None:
        if ref.isdigit():
            return next((g for g in self.groups.values() if g["id"] == int(ref)), None)
        return next((g for k, g in self.groups.items() if k.lower() == ref.lower()), None)

    def milestone_by_title(self, project: str, title: str) -> dict:
        group = self.projects[project]["group"]
        return next(m for m in self.milestones.values()
                    if m["title"] == title and m.get("project") in (project, None) and m.get("group") in (group, None))

    def visible(self, project: str):
        return (i for i in self.issues.values() if i.project == project and not i.deleted)

    # --- changes as a user makes them --------------------------------------------------------------
    def update(self, project: str, iid: int, now: float, *, state=None, labels=None, milestone=..., title=None,
               duplicate_of=None, assignees=None) -> GitlabIssue:
        """milestone: a title, an id or None; labels replace the set; state "closed" / "opened"."""
        with self.lock:
            i = self.issue(project, iid)
            if state is not None and state != i.state:
                i.state = state
                i.closed_at = now if state == "closed" else None
                i.duplicate_of = duplicate_of if state == "closed" else None
            if labels is not None:
                for name in labels:
                    self.projects[project]["labels"].setdefault(name, 8_500 + len(self.projects[project]["labels"]))
                i.labels = list(dict.fromkeys(labels))
            if milestone is not ...:
                i.milestone = (self.milestone_by_title(project, milestone)["id"] if isinstance(milestone, str)
                               else milestone)
            if title is not None:
                i.title = title
            if assignees is not None:
                i.assignees = list(assignees)
            i.updated_at = now
            self.bump()
            return i

    def create(self, project: str, title: str, now: float, *, labels=(), milestone=None) -> GitlabIssue:
        with self.lock:
            iid = self.projects[project]["next_iid"]
            self.projects[project]["next_iid"] += 1
            i = GitlabIssue(id=self.next_id, project=project, iid=iid, title=title, description="", author=1,
                            state="opened", created_at=now, updated_at=now)
            self.next_id += 1
            self.issues[i.id], self.by_ref[(project, iid)] = i, i.id
        return self.update(project, iid, now, labels=list(labels), milestone=milestone)

    def delete(self, project: str, iid: int) -> None:
        with self.lock:
            self.issue(project, iid).deleted = True
            self.bump()

    def move(self, project: str, iid: int, to_project: str, now: float) -> GitlabIssue:
        """GitLab's move: a new issue in the target project; the original is closed with moved_to_id."""
        with self.lock:
            old = self.issue(project, iid)
            new = self.create(to_project, old.title, now, labels=old.labels)
            new.description, new.assignees = old.description, list(old.assignees)
            old.state, old.closed_at, old.moved_to_id, old.updated_at = "closed", now, new.id, now
            self.bump()
            return new

    def add_note(self, i: GitlabIssue, body: str, now: float, author: int = 0) -> dict:
        with self.lock:
            self.next_note += 1
            note = {"id": self.next_note, "body": body, "author": author, "created": now, "updated": now}
            i.notes.append(note)
            i.updated_at = now
            self.bump()
            return note

    def describe(self) -> dict:
        def iso(ts):
            return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")
        return {
            "groups": sorted(self.groups),
            "projects": [{"path": p, "issue_count": sum(1 for _ in self.visible(p)),
                          "milestones": [m["title"] for m in self.milestones.values() if m.get("project") == p]}
                         for p in self.projects],
            "group_milestones": [{"group": m["group"], "title": m["title"], "due_date": iso(m["due"])}
                                 for m in self.milestones.values() if m.get("group")],
            "iterations": [it["title"] for it in self.iterations.values()],
            "deleted": [f"{i.project}#{i.iid}" for i in self.issues.values() if i.deleted],
            "moved": {f"{i.project}#{i.iid}": f"{self.issues[i.moved_to_id].project}#{self.issues[i.moved_to_id].iid}"
                      for i in self.issues.values() if i.moved_to_id},
        }

    def simulate(self, start: float, days: float, seed: int) -> dict:
        """A week of work: issues close, get labelled in progress or blocked; timestamps inside the window."""
        rnd = random.Random(f"gitlab:{seed}:{int(start)}:{days}")
        summary = {"gitlab_closed": 0, "gitlab_labelled": 0}
        with self.lock:
            for i in sorted(self.issues.values(), key=lambda x: x.id):
                if i.deleted or i.moved_to_id or i.state != "opened":
                    continue
                r, when = rnd.random(), start + rnd.uniform(0.05, 0.95) * days * DAY
                if r < 0.07:
                    i.state, i.closed_at, i.updated_at = "closed", when, when
                    i.labels = [x for x in i.labels if x not in ("in progress", "blocked")]
                    summary["gitlab_closed"] += 1
                elif r < 0.1 and "in progress" not in i.labels:
                    i.labels, i.updated_at = [*i.labels, "in progress"], when
                    summary["gitlab_labelled"] += 1
            self.bump()
        return summary


def build_gitlab(seed: int, scale: int, now: float, people: list[dict], lock, *, issues: int | None = None,
                 ) -> GitlabState:
    """Same (seed, scale, now) -> the same GitLab data; `issues` overrides the count (benchmarks)."""
    rnd = random.Random(f"gitlab:{seed}")  # its own stream: Jira and GitHub generation is untouched
    groups = {path: {"id": gid, "path": path, "name": path.rsplit("/", 1)[-1],
                     "parent": path.rpartition("/")[0] or None} for path, gid in GROUPS}
    projects, milestones, iterations = {}, {}, {}
    mid = 5_000
    for path, pid, _ in PROJECTS:
        projects[path] = {"id": pid, "path": path, "name": path.rsplit("/", 1)[-1], "group": path.rpartition("/")[0],
                          "labels": {name: 8_400 + n for n, name in enumerate(LABELS)}, "next_iid": 1}
        for n, (title, dd, state) in enumerate(PROJECT_MILESTONES, start=1):
            milestones[mid] = {"id": mid, "iid": n, "title": title, "state": state, "due": now + dd * DAY,
                               "start": now - 60 * DAY, "project": path, "created": now - 90 * DAY}
            mid += 1
    for n, (title, dd, state) in enumerate(GROUP_MILESTONES, start=1):
        milestones[mid] = {"id": mid, "iid": n, "title": title, "state": state, "due": now + dd * DAY,
                           "start": now - 30 * DAY, "group": "acme/platform", "created": now - 60 * DAY}
        mid += 1
    for n, (title, offset, state) in enumerate(ITERATIONS, start=1):
        iterations[6_000 + n] = {"id": 6_000 + n, "iid": n, "sequence": n, "title": title, "state": state,
                                 "start": now + offset * DAY, "due": now + (offset + 13) * DAY, "group": "acme/platform"}
    st = GitlabState(people=people, groups=groups, projects=projects, milestones=milestones, iterations=iterations,
                     lock=lock)
    total = issues if issues is not None else max(9, int(scale * 0.3))
    for path, _, share in PROJECTS:
        project_ms = [m for m in milestones.values() if m.get("project") == path]
        for _ in range(max(4, int(total * share))):
            _generate_issue(st, rnd, path, project_ms, now)
    _disturb(st, now)
    return st


def _generate_issue(st: GitlabState, rnd: random.Random, path: str, project_ms: list[dict], now: float) -> None:
    created = now - rnd.uniform(0.5, 58) * DAY
    roll = rnd.random()
    ms = project_ms[1] if roll < 0.35 else project_ms[2] if roll < 0.55 else project_ms[0] if roll < 0.67 else None
    if ms is project_ms[0]:
        created = min(created, now - rnd.uniform(25, 58) * DAY)
    kind = rnd.choices(KINDS, weights=MIX[ms["title"] if ms else None])[0]
    a, b = rnd.sample(WORDS, 2)
    iid = st.projects[path]["next_iid"]
    st.projects[path]["next_iid"] += 1
    i = GitlabIssue(id=st.next_id, project=path, iid=iid, title=f"{rnd.choice(('Fix', 'Add', 'Speed up'))} {a} {b}",
                    description=f"Details about {a}.", author=rnd.randint(1, len(st.people) - 1), state="opened",
                    created_at=created, updated_at=created, milestone=ms["id"] if ms else None,
                    labels=rnd.sample(("bug", "feature"), rnd.randint(0, 1)), weight=rnd.choice((None, 1, 2, 3, 5)))
    st.next_id += 1
    who = rnd.randint(0, len(st.people) - 1)
    i.assignees = [who] if who else []
    t = created + (now - created) * rnd.uniform(0.2, 0.9)
    if kind in ("done", "wontfix", "duplicate"):
        i.state, i.closed_at = "closed", t
        if kind == "wontfix":
            i.labels.append("wontfix")
        elif kind == "duplicate":
            i.duplicate_of = next(iter(st.issues), None)
    elif kind == "blocked":
        i.labels.append("blocked")
    elif kind == "in progress":
        i.labels.append("in progress")
    if i.state == "opened" and rnd.random() < 0.5:
        i.iteration = 6_002 if kind != "todo" else rnd.choice((6_002, 6_003))
    i.updated_at = t if kind != "todo" else created
    st.issues[i.id], st.by_ref[(path, iid)] = i, i.id


def _disturb(st: GitlabState, now: float) -> None:
    """One deleted issue and one moved (checkout -> mobile), as the census must notice."""
    checkout = sorted((i for i in st.issues.values() if i.project == "acme/platform/checkout"), key=lambda i: i.iid)
    checkout[-1].deleted = True
    moved = next(i for i in reversed(checkout) if i.state == "opened" and not i.deleted)
    target = "acme/platform/mobile"
    iid = st.projects[target]["next_iid"]
    st.projects[target]["next_iid"] += 1
    new = GitlabIssue(id=st.next_id, project=target, iid=iid, title=moved.title, description=moved.description,
                      author=moved.author, state="opened", created_at=now - DAY, updated_at=now - DAY,
                      labels=list(moved.labels), assignees=list(moved.assignees))
    st.next_id += 1
    st.issues[new.id], st.by_ref[(target, iid)] = new, new.id
    moved.state, moved.closed_at, moved.updated_at, moved.moved_to_id = "closed", now - DAY, now - DAY, new.id
