"""Store faults surface as one-line StoreErrors without secrets, and leave nothing half-written."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from connector.errors import StoreError
from connector.model import Cursor
from connector.store import Store, pulls
from connector.values import PullResult, ScopePull
from tests.fixtures.store import T0, make_item


def _big_pull(n: int) -> PullResult:
    items = tuple(make_item(i, title="x" * 400) for i in range(n))
    return PullResult("jira", (ScopePull("jira:a", items, True, Cursor("jira", "jira:a", updated=T0)),))


def test_unreachable_postgresql_is_one_line_without_password():
    with pytest.raises(StoreError) as caught:
        Store.open("postgresql+psycopg://plansync:hunter2@127.0.0.1:1/plansync")
    message = str(caught.value)
    assert message.startswith("store postgresql+psycopg://plansync@127.0.0.1:1/plansync: ")
    assert "hunter2" not in message and "\n" not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_not_a_database_url():
    with pytest.raises(StoreError, match="not a database URL"):
        Store.open("plansync.db")
    with pytest.raises(StoreError, match="unsupported database"):
        Store.open("mysql://u@h/db")


def test_missing_sqlite_directory(tmp_path):
    with pytest.raises(StoreError, match="unable to open database file"):
        Store.open(f"sqlite:///{tmp_path}/no/such/dir/store.db")


def test_sqlite_locked_database(sqlite_url, sqlite_store):
    other = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with Store.open(sqlite_url, busy_timeout=0) as impatient, \
                pytest.raises(StoreError, match="database is locked .*busy timeout"):
            impatient.begin_run("sync", ["jira"])
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert sqlite_store.begin_run("sync", ["jira"]) == 1  # the failed attempt left nothing behind


def test_sqlite_disk_full_writes_nothing(sqlite_store):
    sqlite_store.save_pull(None, _big_pull(10), T0)
    before = sqlite_store.items()
    sqlite_store.close()  # new connections get a tiny page budget: the database file "fills up"

    @event.listens_for(sqlite_store._engine, "connect")
    def _tiny(dbapi_conn, _record):
        pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
        dbapi_conn.execute(f"PRAGMA max_page_count={pages + 2}")

    with pytest.raises(StoreError, match="database or disk is full"):
        sqlite_store.save_pull(None, _big_pull(2000), T0)
    assert sqlite_store.items() == before


def test_failed_save_leaves_nothing_half_written(store, monkeypatch):
    def broken(*_args, **_kwargs):
        raise OperationalError("INSERT INTO scope_members ...", {}, Exception("server closed the connection"))

    monkeypatch.setattr(pulls, "_update_membership", broken)
    with pytest.raises(StoreError, match="server closed the connection"):
        store.save_pull(None, _big_pull(50), T0)
    assert store.items(present_only=False) == []
    assert store.items_as_of(T0) == []
    assert store.changes(T0, T0.replace(year=2030)) == []
    assert store.get_cursors("jira") == {}


def test_postgresql_connections_killed_under_the_store(pg_url):
    import psycopg

    with Store.open(pg_url) as store:
        store.begin_run("sync", [])
        database = pg_url.rsplit("/", 1)[1]
        with psycopg.connect(pg_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
            killed = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                   "WHERE datname = %s AND pid <> pg_backend_pid()", (database,)).fetchone()[0]
        assert killed >= 1  # the pooled connection is gone, as after a server restart
        assert store.begin_run("sync", []) == 2  # pre-ping reconnects
