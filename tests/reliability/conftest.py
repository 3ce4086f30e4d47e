"""Fixtures of the reliability suite: a workspace on a small sandbox, and the fault-free reference labels."""

from __future__ import annotations

import pytest

from tests.reliability.harness import make_workspace, owned_labels

SEED, SCALE = 3, 120
_reference: dict = {}


@pytest.fixture
def workspace(tmp_path, sandbox_factory):
    """Call with (store_url=None, extra="", **Sandbox options): a started sandbox with config and plan."""
    made = []

    def make(store_url: str | None = None, *, extra: str = "", name: str = "ws", **options):
        options.setdefault("seed", SEED)
        options.setdefault("scale", SCALE)
        sb = sandbox_factory(**options)
        ws = make_workspace(tmp_path / name, sb, store_url, extra=extra)
        made.append(ws)
        return ws

    return make


@pytest.fixture
def reference_labels(tmp_path_factory, sandbox_factory):
    """The owned labels one fault-free `plansync apply` leaves on a fresh sandbox (computed once per process)."""
    if "labels" not in _reference:
        sb = sandbox_factory(seed=SEED, scale=SCALE)
        ws = make_workspace(tmp_path_factory.mktemp("reference"), sb)
        result = ws.main("apply")
        assert result.code == 0, str(result)
        _reference["labels"] = owned_labels(sb)
        assert _reference["labels"], "the reference run labelled nothing: the suite would prove nothing"
    return _reference["labels"]


@pytest.fixture
def run_requests(tmp_path_factory, sandbox_factory) -> int:
    """Requests one fault-free `plansync run` sends to a fresh sandbox (measured once per process), so a
    kill "at a random request" is drawn from requests the run really makes."""
    if "run_requests" not in _reference:
        sb = sandbox_factory(seed=SEED, scale=SCALE)
        ws = make_workspace(tmp_path_factory.mktemp("reference-run"), sb)
        result = ws.main("run")
        assert result.code == 0, str(result)
        _reference["run_requests"] = len(sb.log)
    return _reference["run_requests"]
