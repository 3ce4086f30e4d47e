"""The run lease on both engines: atomic acquisition, renewal, release, takeover after expiry,
and real processes racing for it or dying while holding it.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from connector.errors import ExitCode, LeaseHeld
from connector.store.tables import leases
from tests.store import lease_worker


def test_acquire_renew_release(store):
    assert store.acquire_lease("sync", "a", 300) is True
    assert store.acquire_lease("sync", "a", 300) is True  # re-entrant for the same holder
    assert store.acquire_lease("sync", "b", 300) is False
    holder, until = store.lease_holder("sync")
    assert holder == "a" and until.tzinfo == UTC and until > datetime.now(UTC)
    assert store.renew_lease("sync", "a", 600) is True
    assert store.lease_holder("sync")[1] > until
    assert store.renew_lease("sync", "b", 600) is False
    store.release_lease("sync", "b")  # not b's to release
    assert store.lease_holder("sync")[0] == "a"
    assert store.acquire_lease("report", "b", 300) is True  # names are independent
    store.release_lease("sync", "a")
    assert store.lease_holder("sync") is None
    assert store.acquire_lease("sync", "b", 300) is True


def test_expired_lease_is_taken_over(store):
    assert store.acquire_lease("sync", "crashed", 0) is True  # expires at once, as if its holder died
    assert store.lease_holder("sync") is None
    assert store.acquire_lease("sync", "next", 300) is True
    assert store.renew_lease("sync", "crashed", 300) is False
    assert store.lease_holder("sync")[0] == "next"


def test_lease_context_manager(store):
    with store.lease("run", holder="me", ttl=300) as held:
        assert store.lease_holder("run")[0] == "me"
        with pytest.raises(LeaseHeld, match=r"lease 'run' held by me until 20\d\d-") as caught, \
                store.lease("run", holder="you"):
            pass
        assert caught.value.exit_code == ExitCode.LEASE_HELD
        held.check()
    assert store.lease_holder("run") is None
    with pytest.raises(RuntimeError), store.lease("run"):
        raise RuntimeError("work failed")
    assert store.lease_holder("run") is None  # released on error too
    with store.lease("run") as held:
        host, pid, _token = held.holder.rsplit(":", 2)
        assert int(pid) == os.getpid() and host


def test_renewal_extends_and_detects_a_lost_lease(store):
    with store.lease("run", holder="me", ttl=0.15) as held:  # renews every 50 ms
        first_expiry = _expiry(store, "run")
        held._thread.join(0.2)  # a short real wait: renewal is a real background heartbeat
        assert held._thread.is_alive()
        assert _expiry(store, "run") > first_expiry
        store.release_lease("run", "me")
        assert store.acquire_lease("run", "thief", 300)
        held._thread.join(5)
        assert held.lost and not held._thread.is_alive()
        with pytest.raises(LeaseHeld, match="was lost"):
            held.check()
    assert store.lease_holder("run")[0] == "thief"  # a lost lease is not released by its old holder


def _expiry(store, name: str) -> datetime:
    """The stored expiry, expired or not (lease_holder hides expired leases)."""
    query = select(leases.c.expires_at).where(leases.c.name == name)
    return store._read(lambda conn: conn.execute(query).scalar_one())


def _processes():
    # fork: children start in milliseconds with everything imported; each opens its own Store and
    # never touches the parent's pooled connections.
    return multiprocessing.get_context("fork")


def test_racing_processes_exactly_one_proceeds(store, store_url):
    ctx = _processes()
    contenders = 4
    barrier, results, done = ctx.Barrier(contenders), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=lease_worker.contend, args=(store_url, "run", barrier, results, done))
             for _ in range(contenders)]
    for p in procs:
        p.start()
    try:
        outcomes = [results.get(timeout=120) for _ in procs]
    finally:
        done.set()
        for p in procs:
            p.join(60)
    assert sorted(kind for kind, _ in outcomes) == ["held"] * 3 + ["won"]
    winner = next(detail for kind, detail in outcomes if kind == "won")
    assert all(f":{winner}:" in detail for kind, detail in outcomes if kind == "held")
    assert all(p.exitcode == 0 for p in procs)
    assert store.lease_holder("run") is None


def test_lease_of_a_killed_process_is_taken_over_after_expiry(store, store_url):
    ctx = _processes()
    results, never = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=lease_worker.hold_forever, args=(store_url, "run", 1.5, results, never))
    proc.start()
    try:
        kind, pid = results.get(timeout=120)
        assert kind == "held"
        os.kill(pid, signal.SIGKILL)
        proc.join(30)
    finally:
        if proc.is_alive():
            proc.kill()
    assert proc.exitcode == -signal.SIGKILL
    holder, until = store.lease_holder("run")
    assert holder == f"doomed:{pid}"
    with pytest.raises(LeaseHeld), store.lease("run", holder="successor"):
        pass  # not before its expiry
    # a real wait of at most ttl (1.5 s): the dead holder's lease has to run out
    threading.Event().wait(max(0.0, (until - datetime.now(UTC)).total_seconds()) + 0.05)
    with store.lease("run", holder="successor", ttl=30):
        assert store.lease_holder("run")[0] == "successor"
