"""The shared adapter contract: every tracker adapter's tests subclass `AdapterContract`.

A subclass provides the hooks (how to build its adapter against a host, which scopes to pull, how to
change an item behind the adapter's back, what labels the tracker holds now); the checks below are the
same for every adapter, so a third tracker is held to the same promises. The host is the sandbox by
default; a subclass may override the `host` fixture with anything its hooks understand (a `responses`
host, see test_contract_on_responses.py), so a new adapter can pass the contract on day one.
"""

from __future__ import annotations

from datetime import UTC

import pytest

from connector.errors import AuthError
from connector.model import Scope, Status, WorkItem
from connector.trackers.base import TrackerAdapter
from connector.values import LabelChange, PullResult, PullSpec


class AdapterContract:
    """Subclass in a test module and implement the hooks; pytest collects the tests."""

    prefix = "plan:"

    @pytest.fixture
    def host(self, request):
        return request.getfixturevalue("sandbox")

    # --- hooks ---------------------------------------------------------------------------------
    def make_adapter(self, sandbox, *, token: str | None = None) -> TrackerAdapter:
        raise NotImplementedError

    def scopes(self, sandbox) -> tuple[Scope, ...]:
        raise NotImplementedError

    def touch(self, sandbox, item: WorkItem) -> None:
        """Change `item` in the sandbox (e.g. its title) so its `updated` moves to the sandbox's now."""
        raise NotImplementedError

    def tracker_labels(self, sandbox, item: WorkItem) -> set[str]:
        """The labels the sandbox holds for `item` now."""
        raise NotImplementedError

    def add_foreign_label(self, sandbox, item: WorkItem, label: str) -> None:
        """A human adds a label outside the prefix."""
        raise NotImplementedError

    # --- helpers -------------------------------------------------------------------------------
    def full_pull(self, adapter: TrackerAdapter, sandbox) -> PullResult:
        return adapter.pull(PullSpec(scopes=self.scopes(sandbox), cursors={}, full=True))

    def an_open_item(self, result: PullResult) -> WorkItem:
        items = [i for i in result.all_items().values() if i.status.is_open and not i.is_pull_request]
        assert items, "the sandbox should have open items in the contract scopes"
        return sorted(items, key=lambda i: i.id)[0]

    # --- the contract --------------------------------------------------------------------------
    def test_check_names_the_user(self, host):
        identity = self.make_adapter(host).check()
        assert identity.user and identity.tracker

    def test_wrong_token_is_an_auth_error_naming_the_tracker(self, host):
        adapter = self.make_adapter(host, token="wrong-token-123")
        with pytest.raises(AuthError) as caught:
            adapter.pull(PullSpec(scopes=self.scopes(host), cursors={}, full=False))
        assert adapter.name in str(caught.value)
        assert "wrong-token-123" not in str(caught.value)

    def test_full_pull_returns_normalized_items(self, host):
        adapter = self.make_adapter(host)
        result = self.full_pull(adapter, host)
        items = result.all_items()
        assert items
        for item in items.values():
            assert item.tracker == adapter.name
            assert item.id and item.key and item.url.startswith("http")
            assert isinstance(item.status, Status)
            assert item.created.tzinfo is not None and item.created.utcoffset() == UTC.utcoffset(None)
            assert item.updated.tzinfo is not None and item.updated >= item.created
        assert all(s.complete for s in result.scopes)
        assert adapter.stats.writes == 0

    def test_incremental_pull_with_nothing_changed_returns_nothing(self, host):
        adapter = self.make_adapter(host)
        first = self.full_pull(adapter, host)
        cursors = {s.scope_id: s.cursor for s in first.scopes}
        again = self.make_adapter(host)
        result = again.pull(PullSpec(scopes=self.scopes(host), cursors=cursors))
        changed = [i for s in result.scopes for i in s.items
                   if i.updated > max(c.updated for c in cursors.values() if c.updated)]
        assert changed == []
        assert again.stats.requests <= len(result.scopes) + 2  # one per scope plus a constant

    def test_incremental_pull_sees_a_change(self, host):
        adapter = self.make_adapter(host)
        first = self.full_pull(adapter, host)
        item = self.an_open_item(first)
        self.touch(host, item)
        cursors = {s.scope_id: s.cursor for s in first.scopes}
        result = self.make_adapter(host).pull(PullSpec(scopes=self.scopes(host), cursors=cursors))
        assert item.id in result.all_items()

    def test_push_labels_touches_only_owned_labels(self, host):
        adapter = self.make_adapter(host)
        item = self.an_open_item(self.full_pull(adapter, host))
        self.add_foreign_label(host, item, "needs-design")
        before = self.tracker_labels(host, item)
        change = LabelChange(adapter.name, item.id, item.key, add=frozenset({"plan:at-risk"}))
        result = adapter.push_labels(change)
        assert result.ok
        assert self.tracker_labels(host, item) == before | {"plan:at-risk"}
        if result.labels is not None:  # where the answer says, it says what the tracker holds now
            assert set(result.labels) == self.tracker_labels(host, item)
        swap = LabelChange(adapter.name, item.id, item.key, add=frozenset({"plan:on-track"}),
                           remove=frozenset({"plan:at-risk"}))
        assert adapter.push_labels(swap).ok
        assert self.tracker_labels(host, item) == before | {"plan:on-track"}
        assert "needs-design" in self.tracker_labels(host, item)

    def test_removing_an_absent_owned_label_succeeds(self, host):
        adapter = self.make_adapter(host)
        item = self.an_open_item(self.full_pull(adapter, host))
        change = LabelChange(adapter.name, item.id, item.key, remove=frozenset({"plan:never-there"}))
        assert adapter.push_labels(change).ok

    def test_an_empty_change_costs_nothing(self, host):
        adapter = self.make_adapter(host)
        item = self.an_open_item(self.full_pull(adapter, host))
        before = adapter.stats.requests
        assert adapter.push_labels(LabelChange(adapter.name, item.id, item.key)).ok
        assert adapter.stats.requests == before
