"""Property: any WorkItem a tracker could produce comes back from the store as it went in, on both engines."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.model import Blocker, Cursor, Status
from connector.values import PullResult, ScopePull
from tests.fixtures.store import make_item

_ids = itertools.count()
text = st.text(max_size=40)  # any unicode, NUL included
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=offsets)
labels = st.lists(text, max_size=5).map(tuple)


def _clean(value):
    return value.replace("\x00", "\ufffd") if isinstance(value, str) else value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=text, key=text, status=st.sampled_from(list(Status)), created=instants, resolved=st.none() | instants,
       assignees=labels, tags=labels, milestones=labels, sprint=st.none() | text,
       due=st.none() | st.dates(), estimate=st.none() | st.floats(allow_nan=False, allow_infinity=False),
       links=labels, blockers=st.lists(st.tuples(st.from_regex(r"\A[0-9]{1,6}\Z"), text, st.booleans()), max_size=3))
def test_any_item_round_trips(store, title, key, status, created, resolved, assignees, tags, milestones, sprint,
                              due, estimate, links, blockers):
    item = make_item(f"p{next(_ids)}", title=title, key=key or "K", status=status, created=created,
                     updated=created + timedelta(seconds=1), resolved=resolved, assignees=assignees, labels=tags,
                     milestones=milestones, sprint=sprint, due=due, estimate=estimate, links=links,
                     blocked_by=tuple(Blocker(i, k, o) for i, k, o in blockers))
    scope = ScopePull("jira:prop", (item,), False, Cursor("jira", "jira:prop"))
    store.save_pull(None, PullResult("jira", (scope,)), datetime(2026, 1, 1, tzinfo=UTC))
    back = store.item("jira", item.id)
    expected = replace(item, title=_clean(item.title), key=_clean(item.key), sprint=_clean(item.sprint),
                       blocked_by=tuple(replace(b, key=_clean(b.key)) for b in item.blocked_by))
    assert back == expected
    assert back.created.tzinfo is UTC and back.updated.tzinfo is UTC
    assert back.resolved is None or back.resolved.tzinfo is UTC
