"""Property tests for the owned-label invariants of reconcile + plan_changes (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.changes import check_safety, plan_changes
from connector.model import Plan, PlanHeader, PlanMilestone, Presence, Status, WorkItem
from connector.reconcile import reconcile
from connector.trackers.github.scopes import GithubScope
from connector.trackers.jira.scopes import JiraScope

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
REPO = "acme/web"
PREFIXES = ("plan:", "ops/")
# owned labels of both prefixes, look-alikes that are NOT owned, and ordinary labels
LABEL_POOL = ("plan:on-track", "plan:at-risk", "plan:off-track", "plan:overdue", "plan:unplanned", "plan:legacy",
              "ops/on-track", "ops/unplanned", "Plan:On-Track", "plan", "planning", "plan-at-risk", "ops", "beta",
              "team-x", "bug")
SCOPE_CHOICES = (
    GithubScope(tracker="github", repo=REPO, milestone="Beta"),
    GithubScope(tracker="github", repo=REPO, label="beta"),
    GithubScope(tracker="github", repo="ACME/Web", items=(f"{REPO}#1", f"{REPO}#2", f"{REPO}#5")),
    JiraScope(tracker="jira", items=("CHK-1", "CHK-3", "CHK-4")),
    JiraScope(tracker="jira", jql="project = CHK AND fixVersion = Beta"),
    JiraScope(tracker="jira", jql="project = CHK AND labels = q4"),
)
WATCH_CHOICES = (GithubScope(tracker="github", repo=REPO), JiraScope(tracker="jira", jql="project = CHK"))


@st.composite
def work_item(draw, n: int) -> WorkItem:
    tracker = draw(st.sampled_from(["jira", "github"]))
    status = draw(st.sampled_from(list(Status)))
    is_pr = tracker == "github" and draw(st.booleans())
    key = f"CHK-{n}" if tracker == "jira" else f"{REPO}#{n}"
    updated = NOW - timedelta(days=draw(st.integers(0, 40)))
    return WorkItem(
        tracker=tracker, id=str(n), key=key, container="CHK" if tracker == "jira" else REPO, url="u",
        title=f"item {n}", type="pull_request" if is_pr else "issue", status=status, raw_status=status.value,
        created=NOW - timedelta(days=90), updated=updated,
        resolved=updated if status is Status.DONE and draw(st.booleans()) else None,
        labels=tuple(draw(st.lists(st.sampled_from(LABEL_POOL), max_size=6, unique=True))),
        milestones=tuple(draw(st.lists(st.sampled_from(["Beta", "GA"]), max_size=1))),
        due=draw(st.none() | st.dates(date(2026, 10, 1), date(2027, 2, 1))),
        links=tuple(draw(st.lists(st.sampled_from(["CHK-1", "CHK-2", f"{REPO}#3", f"{REPO}#4"]), max_size=2))),
        is_pull_request=is_pr,
        presence=draw(st.sampled_from([Presence.PRESENT] * 5 + [Presence.DELETED, Presence.HIDDEN])),
    )


@st.composite
def world(draw):
    count = draw(st.integers(0, 14))
    items = [draw(work_item(n)) for n in range(1, count + 1)]
    milestones = []
    for index in range(draw(st.integers(1, 3))):
        scopes = tuple(draw(st.lists(st.sampled_from(SCOPE_CHOICES), min_size=1, max_size=3, unique=True)))
        milestones.append(PlanMilestone(key=f"m{index}", title=f"M{index}",
                                        due=draw(st.dates(date(2026, 11, 1), date(2027, 1, 31))), scope=scopes,
                                        depends_on=(f"m{index - 1}",) if index and draw(st.booleans()) else ()))
    watch = tuple(draw(st.lists(st.sampled_from(WATCH_CHOICES), max_size=2, unique=True)))
    plan = Plan(plan=PlanHeader(name="p", timezone=draw(st.sampled_from(["UTC", "Europe/Berlin", "Pacific/Auckland"])),
                                start=draw(st.none() | st.dates(date(2026, 10, 1), date(2026, 11, 26)))),
                milestones=tuple(milestones), watch=watch)
    jira_uids = [i.uid for i in items if i.tracker == "jira"]
    members = {scope.id: frozenset(draw(st.lists(st.sampled_from(jira_uids), unique=True)) if jira_uids else ())
               for scope in (*SCOPE_CHOICES, *WATCH_CHOICES) if scope.remote}
    return plan, items, members, draw(st.sampled_from(PREFIXES))


def _reconcile(plan, items, members, prefix):
    return reconcile(plan, items, members, (), (), now=NOW, prefix=prefix, forecast_runs=50)


def _apply(items, changes):
    by_uid = {(c.tracker, c.item_id): c for c in changes}
    out = []
    for item in items:
        change = by_uid.get(item.uid)
        if change is not None:
            kept = tuple(label for label in item.labels if label not in change.remove)
            item = item.with_labels(kept + tuple(sorted(change.add - set(kept))))
        out.append(item)
    return out


@settings(max_examples=150, deadline=None)
@given(world())
def test_labels_outside_the_prefix_are_never_in_a_change(case):
    plan, items, members, prefix = case
    changes = plan_changes(_reconcile(plan, items, members, prefix), prefix).changes
    labels_of = {i.uid: set(i.labels) for i in items}
    for change in changes:
        assert not change.empty
        assert all(label.startswith(prefix) for label in change.add | change.remove)
        assert change.remove <= labels_of[(change.tracker, change.item_id)]
        assert not change.add & labels_of[(change.tracker, change.item_id)]


@settings(max_examples=150, deadline=None)
@given(world())
def test_applying_a_plan_then_planning_again_yields_no_changes(case):
    plan, items, members, prefix = case
    first = plan_changes(_reconcile(plan, items, members, prefix), prefix)
    applied = _apply(items, first.changes)
    again = plan_changes(_reconcile(plan, applied, members, prefix), prefix)
    assert again.changes == ()
    # and nothing outside the prefix moved
    for before, after in zip(items, applied, strict=True):
        assert {lb for lb in before.labels if not lb.startswith(prefix)} == \
               {lb for lb in after.labels if not lb.startswith(prefix)}


@settings(max_examples=150, deadline=None)
@given(world())
def test_desired_labels_are_inside_the_prefix_and_only_on_open_issues(case):
    plan, items, members, prefix = case
    rec = _reconcile(plan, items, members, prefix)
    for uid, desired in rec.desired_labels.items():
        item = rec.items[uid]
        assert item.presence is Presence.PRESENT
        assert all(label.startswith(prefix) for label in desired)
        if item.is_pull_request or not item.status.is_open:
            assert desired == frozenset()
        elif uid in rec.membership or uid in rec.unplanned:
            assert len(desired - {f"{prefix}overdue"}) == 1  # exactly one health or unplanned label
        else:  # left every scope: whatever owned labels it carries are taken back
            assert desired == frozenset() and item.owned_labels(prefix)
    assert set(rec.membership) <= set(rec.desired_labels)
    assert rec.unplanned <= set(rec.desired_labels)
    assert not any(rec.items[uid].is_pull_request for uid in rec.membership)
    # same input, same answer (forecast seeded)
    assert _reconcile(plan, items, members, prefix) == rec


@st.composite
def news(draw, items):
    """What a week brings without touching scope: statuses change (not to or from deleted), due dates move."""
    out = []
    for item in items:
        if item.presence is Presence.PRESENT and not item.is_pull_request and draw(st.booleans()):
            item = replace(item, status=draw(st.sampled_from(list(Status))),
                           due=draw(st.none() | st.dates(date(2026, 10, 1), date(2027, 2, 1))))
        out.append(item)
    return out


def _confirmed(first, applied_items, prefix):
    """The records an apply of `first` leaves: adoption baseline, then every confirmed write."""
    records = {(r.tracker, r.item_id): r for r in first.baseline}
    labels = {i.uid: frozenset(lb for lb in i.labels if lb.startswith(prefix)) for i in applied_items}
    for change in first.changes:
        uid = (change.tracker, change.item_id)
        if uid in first.records:
            records[uid] = replace(first.records[uid], labels=labels[uid])
    return records


@settings(max_examples=150, deadline=None)
@given(world(), st.data())
def test_changes_caused_only_by_health_status_or_overdue_never_trip_the_guard(case, data):
    plan, items, members, prefix = case
    first = plan_changes(_reconcile(plan, items, members, prefix), prefix)
    applied = _apply(items, first.changes)
    records = _confirmed(first, applied, prefix)
    week = data.draw(news(applied))
    # a due date moving is news too: every milestone may move
    moved = Plan(plan=plan.plan, watch=plan.watch, milestones=tuple(
        replace_model(m, due=data.draw(st.dates(date(2026, 10, 1), date(2027, 1, 31)))) for m in plan.milestones))
    rec = _reconcile(moved, week, members, prefix)
    second = plan_changes(rec, prefix, records, frozenset({"jira", "github"}))
    # an item that is done or dropped in scope, or reopened, keeps its placement: the causes are news
    # unless the item's placement itself moved (a status change can move an item out of a watch scope
    # only by leaving it, which these worlds cannot do: scopes here do not depend on status)
    assert {c.cause for c in second.changes} <= {"health", "status", "overdue"}, second.changes
    check_safety(second, max_share=0.30, min_guarded=10)  # never refuses: 0 guarded changes
    check_safety(second, max_share=0.01, min_guarded=0)


def replace_model(model, **changes):
    return model.model_copy(update=changes)
