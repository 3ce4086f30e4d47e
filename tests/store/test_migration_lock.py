"""One migrator at a time: processes that start a migration together wait for the first one, or give up
after the wait with exit 4 (as a held lease) having done nothing; the schema ends correct."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from connector.store import Store
from connector.store.engine import _MIGRATION_LOCK, head_revision
from connector.store.tables import metadata
from tests.store import lease_worker

REPO = Path(__file__).resolve().parents[2]


def _schema_is_head(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        engine.dispose()
    return revision == head_revision() and diff == []


def _race(url: str, wait: float, n: int = 4) -> list[tuple[str, object]]:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=lease_worker.migrate_at_once, args=(url, wait, barrier, results)) for _ in range(n)]
    for p in procs:
        p.start()
    try:
        out = [results.get(timeout=120) for _ in procs]
    finally:
        for p in procs:
            p.join(60)
    assert [p.exitcode for p in procs] == [0] * n
    return out


def test_four_processes_migrating_one_postgresql_at_once_migrate_it_once(pg_url):
    outcomes = sorted(kind for kind, _ in _race(pg_url, wait=60))
    assert outcomes == ["migrated", "waited", "waited", "waited"]
    assert _schema_is_head(pg_url)


def test_four_processes_migrating_one_sqlite_at_once_migrate_it_once(sqlite_url):
    outcomes = sorted(kind for kind, _ in _race(sqlite_url, wait=60))
    assert outcomes == ["migrated", "waited", "waited", "waited"]
    assert _schema_is_head(sqlite_url)


def _upgrade_cli(tmp_path: Path, url: str, wait: float) -> subprocess.Popen:
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nurl = "{url}"\nmigrate_wait_seconds = {wait}\n\n'
                      '[trackers.gh]\nkind = "github"\nurl = "https://api.github.com"\ntoken_env = "GH_UNUSED"\n')
    return subprocess.Popen([sys.executable, "-m", "connector", "store", "upgrade", "--config", str(config)],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})


def _hold_migration_lock(url: str):
    """What a slow migrator in another process looks like from outside: the migration lock held."""
    engine = create_engine(url)
    conn = engine.connect()
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
    else:  # as every plansync connection: WAL, then the write lock a migration takes
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    return engine, conn


@pytest.mark.parametrize("engine_name", ["sqlite", "postgresql"])
def test_migrators_that_wait_past_the_limit_exit_4_and_change_nothing(request, tmp_path, engine_name):
    url = request.getfixturevalue("sqlite_url" if engine_name == "sqlite" else "pg_url")
    engine, holder = _hold_migration_lock(url)
    try:
        procs = [_upgrade_cli(tmp_path, url, wait=0.5) for _ in range(4)]
        finished = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [4] * 4, finished
        for out, err in finished:
            assert "plansync: skipped:" in out and "another process is migrating" in out
            assert "Traceback" not in err
    finally:
        holder.close()
        engine.dispose()
    with Store.open(url, migrate=False) as store:
        assert store.schema_revision() is None  # nothing was done
    done = _upgrade_cli(tmp_path, url, wait=0.5)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    assert f"upgraded from empty to {head_revision()}" in out
    assert _schema_is_head(url)
