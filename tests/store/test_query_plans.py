"""History queries stay fast as history grows: on PostgreSQL, with a long history analysed, the queries
a report makes are index range scans, never a scan of every version or change ever stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from connector.store import Store
from connector.store.history import as_of_queries
from connector.store.tables import ITEM_FIELDS, item_history, item_versions

T0 = datetime(2025, 1, 1, tzinfo=UTC)
ITEMS, DAYS = 400, 60  # 24,000 closed versions behind 400 open ones


def _long_history(store: Store) -> datetime:
    base = {f: None for f in ITEM_FIELDS} | {
        "container": "CHK", "url": "u", "title": "t", "type": "Story", "status": "todo", "raw_status": "To Do",
        "created": T0, "updated": T0, "assignees": "[]", "labels": "[]", "milestones": "[]", "links": "[]",
        "is_pull_request": False, "presence": "present"}
    versions, changes = [], []
    for i in range(ITEMS):
        for d in range(DAYS + 1):
            start = T0 + timedelta(days=d, minutes=i)
            end = None if d == DAYS else start + timedelta(days=1)
            versions.append({**base, "tracker": "jira", "item_id": str(i), "key": f"CHK-{i}",
                             "valid_from": start, "valid_to": end})
            changes.append({"tracker": "jira", "item_id": str(i), "key": f"CHK-{i}", "field": "status",
                            "old": "todo", "new": "todo", "observed_at": start, "changed_at": start})

    def work(conn) -> None:
        for table, rows in ((item_versions, versions), (item_history, changes)):
            for k in range(0, len(rows), 2000):
                conn.execute(table.insert(), rows[k:k + 2000])
        conn.execute(text("ANALYZE item_versions"))
        conn.execute(text("ANALYZE item_history"))
    store._write(work)
    return T0 + timedelta(days=DAYS - 7)


def _plan(store: Store, query) -> str:
    compiled = query.compile(dialect=store._engine.dialect, compile_kwargs={"literal_binds": True})
    return store._read(lambda c: "\n".join(c.execute(text(f"EXPLAIN {compiled}")).scalars()))


def test_a_past_week_reads_the_open_versions_through_the_valid_to_index(pg_url):
    with Store.open(pg_url) as store:
        week_ago = _long_history(store)
        plans = [_plan(store, q) for q in as_of_queries(week_ago)]
        for plan in plans:
            print(plan)  # shown with -s: the plans the README quotes
            assert "ix_item_versions_valid_to" in plan
            assert "Seq Scan" not in plan
        assert len(store.items_as_of(week_ago)) == ITEMS


def test_a_week_of_changes_reads_only_that_week(pg_url):
    with Store.open(pg_url) as store:
        week_ago = _long_history(store)
        h = item_history.c
        query = item_history.select().where(h.observed_at >= week_ago, h.observed_at < week_ago + timedelta(days=7))
        plan = _plan(store, query)
        print(plan)
        assert "ix_item_history_observed_at" in plan and "Seq Scan" not in plan
