"""The shared adapter contract on a `responses` host instead of the sandbox (tests/adapters/responses_host.py):
a new kind's adapter can be held to the contract on day one, before it has a sandbox flavour."""

from __future__ import annotations

import pytest
import responses

from connector.http import RetryPolicy
from connector.model import Scope, WorkItem
from connector.trackers.github.adapter import GithubAdapter, split_key
from connector.trackers.github.config import GithubTrackerSettings
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.scopes import GithubScope
from tests.adapters.contract import AdapterContract
from tests.adapters.responses_host import BASE, TOKEN, GithubHost, HostIssue

TOKEN_ENV = "PLANSYNC_TEST_HOST_GITHUB_TOKEN"
REPO = "acme/web"


class TestGithubContractOnResponses(AdapterContract):
    @pytest.fixture
    def host(self, monkeypatch):
        self.monkeypatch = monkeypatch
        with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
            yield GithubHost(mock, {REPO: [HostIssue(n, f"issue {n}", state="closed" if n % 4 == 0 else "open")
                                           for n in range(1, 131)]})

    def make_adapter(self, host, *, token: str | None = None) -> GithubAdapter:
        self.monkeypatch.setenv(TOKEN_ENV, token or TOKEN)
        tracker = GithubTrackerSettings(kind="github", url=BASE, token_env=TOKEN_ENV, write_interval=0,
                                        writes_per_minute=0)
        tracker._name = "gh"
        return GithubAdapter(tracker, load_github_mapping(), overlap_minutes=0, policy=RetryPolicy(attempts=2))

    def scopes(self, host) -> tuple[Scope, ...]:
        return (GithubScope(tracker="gh", repo=REPO),)

    def touch(self, host, item: WorkItem) -> None:
        repo, number = split_key(item.key)
        host.touch(repo, number, title=f"{item.title} (edited)")

    def tracker_labels(self, host, item: WorkItem) -> set[str]:
        repo, number = split_key(item.key)
        return set(host.issue(repo, number).labels)

    def add_foreign_label(self, host, item: WorkItem, label: str) -> None:
        repo, number = split_key(item.key)
        host.touch(repo, number, labels=[*host.issue(repo, number).labels, label])
