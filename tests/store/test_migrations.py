"""Alembic: the head schema equals the SQLModel tables, and a store at every earlier revision, with data\nin it, upgrades in place."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from connector.errors import StoreError
from connector.model import Cursor, Plan, PlanHeader, Status
from connector.store import Store
from connector.store.engine import head_revision
from connector.store.tables import metadata
from connector.values import LabelChange, PullResult, ScopePull
from tests.fixtures.store import T0, make_item
from tests.store import lease_worker

REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006")  # every migration, oldest first


def _schema_diff(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()


def test_the_revision_list_is_every_migration():
    assert REVISIONS[-1] == head_revision()
    from alembic.script import ScriptDirectory

    from connector.store.engine import alembic_config
    walked = [r.revision for r in ScriptDirectory.from_config(alembic_config()).walk_revisions()]
    assert tuple(reversed(walked)) == REVISIONS


def test_head_migration_matches_the_tables(store, store_url):
    assert store.schema_revision() == head_revision() == REVISIONS[-1]
    assert _schema_diff(store_url) == []


def _fill(old: Store, revision: str) -> dict:
    """Data of every kind the schema at `revision` holds, written through the Store API."""
    run = old.begin_run("sync", ["jira"])
    scope = ScopePull("jira:a", (make_item(1), make_item(2)), True, Cursor("jira", "jira:a", updated=T0))
    old.save_pull(run, PullResult("jira", (scope,)), T0)
    later = T0 + timedelta(hours=1)
    old.save_pull(run, PullResult("jira", (ScopePull("jira:a", (make_item(1, status=Status.DONE, updated=later),),
                                                      False, Cursor("jira", "jira:a", updated=later)),)), later)
    old.mark_tracker_synced(run, "jira", ok=True, census=True, requests={"requests": 3})
    old.finish_run(run, "success")
    [entry] = old.journal_plan(run, [LabelChange("jira", "1", "CHK-1", add=frozenset({"plan:on-track"}))])
    assert old.acquire_lease("sync", "host:1:a", 300)
    if revision >= "0002":
        assert old.save_plan_snapshot(run, Plan(plan=PlanHeader(name="p")), T0)
    return {"entry": entry, "run": run}


@pytest.mark.parametrize("start", REVISIONS[:-1])
def test_every_earlier_schema_with_data_upgrades_to_head(store_url, start):
    old = Store.open(store_url, migrate=False)
    assert old.upgrade(start) is True
    assert old.schema_revision() == start
    made = _fill(old, start)
    old.close()

    with Store.open(store_url) as new:
        assert new.schema_revision() == head_revision()
        assert [i.id for i in new.items()] == ["1", "2"]
        assert new.item("jira", "2") == make_item(2)
        assert new.item("jira", "1").status is Status.DONE
        assert [i.status for i in new.items_as_of(T0)] == [make_item(1).status, make_item(2).status]
        assert [i.status for i in new.items_as_of(T0 + timedelta(hours=2))][0] is Status.DONE
        assert [e[:2] for e in new.done_events()] == [("jira", "1")]
        assert {c.field for c in new.changes(T0, T0 + timedelta(days=1))} >= {"status"}
        assert new.get_cursors("jira")["jira:a"].updated == T0 + timedelta(hours=1)
        assert [r["outcome"] for r in new.runs()] == ["success"]
        assert new.sync_count("jira") == 1
        assert [e.id for e in new.journal_unfinished()] == [made["entry"]]
        assert new.lease_holder("sync")[0] == "host:1:a"
        assert new.scope_members(["jira:a"])["jira:a"] == {("jira", "1"), ("jira", "2")}
        if start >= "0002":
            assert new.plan_as_of(T0 + timedelta(days=1)) == Plan(plan=PlanHeader(name="p"))
        else:
            assert new.plan_as_of(T0 + timedelta(days=1)) is None
        assert new.prune(400, T0 + timedelta(days=500)).runs == 0  # the newest good sync is kept
    assert _schema_diff(store_url) == []
    with Store.open(store_url) as again:  # opening an up-to-date store is a no-op
        assert again.upgrade() is False


def test_each_migration_steps_from_the_one_before_with_data(store_url):
    store = Store.open(store_url, migrate=False)
    try:
        store.upgrade(REVISIONS[0])
        _fill(store, REVISIONS[0])
        for revision in REVISIONS[1:]:
            assert store.upgrade(revision) is True
            assert store.schema_revision() == revision
            assert [i.id for i in store.items()] == ["1", "2"]
            assert len(store.journal()) == 1
    finally:
        store.close()
    assert _schema_diff(store_url) == []


def test_explicit_migration_teams_get_an_error_not_a_migration(store_url):
    old = Store.open(store_url, migrate=False)
    old.upgrade("0003")
    old.close()
    with pytest.raises(StoreError, match=r"schema is at 0003, this plansync needs 0006; run `plansync store upgrade`"):
        Store.open(store_url, migrate=False, require_current=True)
    with Store.open(store_url, migrate=False) as still:
        assert still.schema_revision() == "0003"


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
