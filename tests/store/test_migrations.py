"""Alembic: the head schema equals the SQLModel tables, and a store made by 0001 upgrades in place."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from connector.errors import StoreError
from connector.model import Cursor, Plan, PlanHeader
from connector.store import Store
from connector.store.engine import head_revision
from connector.store.tables import metadata
from connector.values import LabelChange, PullResult, ScopePull
from tests.fixtures.store import T0, make_item
from tests.store import lease_worker


def test_head_migration_matches_the_tables(store, store_url):
    assert store.schema_revision() == head_revision() == "0005"
    engine = create_engine(store_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_store_from_first_migration_upgrades_in_place(store_url):
    old = Store.open(store_url, migrate=False)
    old.upgrade("0001")
    assert old.schema_revision() == "0001"
    run = old.begin_run("sync", ["jira"])
    scope = ScopePull("jira:a", (make_item(1), make_item(2)), True, Cursor("jira", "jira:a", updated=T0))
    old.save_pull(run, PullResult("jira", (scope,)), T0)
    old.mark_tracker_synced(run, "jira", ok=True, census=True, requests={"requests": 3})
    old.finish_run(run, "success")
    [entry] = old.journal_plan(run, [LabelChange("jira", "1", "CHK-1", add=frozenset({"plan:on-track"}))])
    assert old.acquire_lease("sync", "host:1:a", 300)
    old.close()
    engine = create_engine(store_url)
    assert "plan_snapshots" not in inspect(engine).get_table_names()
    engine.dispose()

    with Store.open(store_url) as new:
        assert new.schema_revision() == head_revision()
        assert [i.id for i in new.items()] == ["1", "2"]
        assert new.item("jira", "1") == make_item(1)
        assert [i.id for i in new.items_as_of(T0)] == ["1", "2"]
        assert new.get_cursors("jira")["jira:a"].updated == T0
        assert [r["outcome"] for r in new.runs()] == ["success"]
        assert new.sync_count("jira") == 1
        assert [e.id for e in new.journal_unfinished()] == [entry]
        assert new.lease_holder("sync")[0] == "host:1:a"
        assert new.scope_members(["jira:a"])["jira:a"] == {("jira", "1"), ("jira", "2")}
        assert new.save_plan_snapshot(None, Plan(plan=PlanHeader(name="p")), datetime(2026, 11, 1, tzinfo=UTC))
    with Store.open(store_url) as again:  # opening an up-to-date store is a no-op
        assert again.schema_revision() == head_revision()
        assert again.plan_as_of(datetime(2026, 11, 2, tzinfo=UTC)) == Plan(plan=PlanHeader(name="p"))


def test_processes_opening_a_new_store_at_once_migrate_it_once(store_url):
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=lease_worker.open_store, args=(store_url, barrier, results)) for _ in range(3)]
    for p in procs:
        p.start()
    try:
        revisions = [results.get(timeout=120) for _ in procs]
    finally:
        for p in procs:
            p.join(60)
    assert revisions == [head_revision()] * 3
    assert [p.exitcode for p in procs] == [0, 0, 0]
    with Store.open(store_url) as store:
        assert store.runs() == []


def test_store_from_a_newer_plansync_is_refused(store_url):
    with Store.open(store_url) as store:
        store.begin_run("sync", [])
    engine = create_engine(store_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    with pytest.raises(StoreError, match="schema revision 0099 is newer than this plansync knows"):
        Store.open(store_url)
