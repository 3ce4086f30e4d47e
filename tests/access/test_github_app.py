"""plansync as a GitHub App against the sandbox: installation tokens minted from the app's JWT, looked up per
owner, renewed before they expire (mid-run too, by the server's clock), per-installation rate limits, and
the one line each bad setup gives."""

from __future__ import annotations

import logging

import pytest
from pydantic import ValidationError

from connector.errors import ConfigError, FatalAPIError
from connector.http import RetryPolicy
from connector.sandbox import github_app
from connector.trackers.github.adapter import GithubAdapter
from connector.trackers.github.config import GithubTrackerSettings
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.scopes import GithubScope
from connector.values import LabelChange, PullSpec

KEY_ENV = "PLANSYNC_TEST_GITHUB_APP_KEY"
REPO = "acme/checkout-web"


@pytest.fixture(autouse=True)
def _clock_of_the_sandbox(sandbox, monkeypatch):
    """plansync's clock is the sandbox's (as in the e2e runs); the skew test below unpins it."""
    monkeypatch.setenv("PLANSYNC_NOW", sandbox.clock.now().isoformat())


def tracker(sandbox, **kw) -> GithubTrackerSettings:
    t = GithubTrackerSettings(**({"kind": "github", "url": sandbox.github_url, "app_id": github_app.APP_ID,
                                  "private_key_env": KEY_ENV, "write_interval": 0, "writes_per_minute": 0,
                                  "writes_per_hour": 0} | kw))
    t._name = "gh"
    return t


def make(sandbox, monkeypatch, key: str | None = None, **kw) -> GithubAdapter:
    monkeypatch.setenv(KEY_ENV, key if key is not None else github_app.private_key_pem())
    return GithubAdapter(tracker(sandbox, **kw), load_github_mapping(), policy=RetryPolicy(attempts=3))


def full(adapter, repos=(REPO,)):
    return adapter.pull(PullSpec(scopes=tuple(GithubScope(tracker="gh", repo=r) for r in repos), cursors={},
                                 full=True))


def test_app_config_needs_its_key_and_replaces_token_env(sandbox):
    with pytest.raises(ValidationError, match="private_key_env"):
        GithubTrackerSettings(kind="github", url=sandbox.github_url, app_id=1)
    with pytest.raises(ValidationError, match="token_env"):
        GithubTrackerSettings(kind="github", url=sandbox.github_url)
    with pytest.raises(ValidationError, match="need `app_id`"):
        GithubTrackerSettings(kind="github", url=sandbox.github_url, token_env="T", installation_id=3)
    assert tracker(sandbox).secret_env == KEY_ENV and tracker(sandbox).token_env is None


@pytest.mark.parametrize("bad", ["", "not a key", "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----"])
def test_a_malformed_pem_is_one_offline_line(sandbox, monkeypatch, bad):
    monkeypatch.setenv(KEY_ENV, bad)
    with pytest.raises(ConfigError) as caught:
        tracker(sandbox).token()
    message = str(caught.value)
    assert KEY_ENV in message and "\n" not in message and caught.value.exit_code == 2
    assert sandbox.count() == 0  # nothing was sent


def test_a_full_pull_mints_one_token_per_owner_and_uses_it(sandbox, monkeypatch):
    a = make(sandbox, monkeypatch)
    try:
        result = full(a, repos=(REPO, "acme/infra"))
        identity = a.check()
    finally:
        a.close()
    state = github_app.app_state(sandbox)
    assert len(state.minted) == 1 and state.refused == []
    assert sandbox.count(endpoint="github.repo_installation") == 1  # looked up once for the owner acme
    assert sum(len(s.items) for s in result.scopes) > 0
    assert not [r for r in sandbox.log if r.status == 401]
    assert identity.user == f"{github_app.APP_SLUG}[bot] (GitHub App {github_app.APP_ID})"


def test_a_token_expiring_mid_run_is_renewed_before_any_request_fails(sandbox, monkeypatch):
    state = github_app.app_state(sandbox)
    state.token_lifetime = 480  # 8 minutes of sandbox time
    sandbox.tick_seconds = 120  # and every request takes two minutes of it
    a = make(sandbox, monkeypatch)
    try:
        item = full(a).scopes[0].items[0]
        assert a.push_labels(LabelChange("gh", item.id, item.key, add=frozenset({"plan:x"}))).ok
        full(a)
    finally:
        a.close()
    assert len(state.minted) >= 2, (state.minted, sandbox.counts())  # renewed mid-run
    assert state.refused == [] and not [r for r in sandbox.log if r.status == 401]
    # each token was replaced while it still had RENEW_BEFORE to live, by the sandbox's clock
    gaps = [b - a for (_, a), (_, b) in zip(state.minted, state.minted[1:], strict=False)]
    assert all(gap < 480 for gap in gaps), gaps  # each renewed while it still lived
    assert sandbox.clock.ts() > state.minted[0][1] + 480  # the first token did expire during the run


def test_a_token_github_refuses_early_is_replaced_once(sandbox, monkeypatch):
    a = make(sandbox, monkeypatch)
    try:
        full(a)
        github_app.app_state(sandbox).tokens.clear()  # revoked behind plansync's back
        full(a)
    finally:
        a.close()
    assert len(github_app.app_state(sandbox).minted) == 2
    assert len([r for r in sandbox.log if r.status == 401]) == 1


def test_rate_limits_are_counted_per_installation(sandbox, monkeypatch):
    a = make(sandbox, monkeypatch)
    try:
        full(a)
        rates = dict(a.http.app.rates)
    finally:
        a.close()
    assert list(rates) == [github_app.installation_id(sandbox, "acme")]
    remaining, limit, _ = rates[github_app.installation_id(sandbox, "acme")]
    assert limit == sandbox.github_rate_limit and remaining < limit


def test_an_app_not_installed_on_a_repo_of_the_plan_names_it(sandbox, monkeypatch):
    github_app.app_state(sandbox).uninstalled.add("acme/infra")
    a = make(sandbox, monkeypatch)
    try:
        with pytest.raises(FatalAPIError) as caught:
            full(a, repos=("acme/infra",))
    finally:
        a.close()
    message = str(caught.value)
    assert message.startswith("tracker 'gh': ") and "not installed on acme/infra" in message
    assert "\n" not in message


def test_a_key_of_another_app_is_refused_with_the_fix(sandbox, monkeypatch):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    a = make(sandbox, monkeypatch, key=other)
    try:
        with pytest.raises(FatalAPIError) as caught:
            full(a)
    finally:
        a.close()
    assert "JWT" in str(caught.value) and KEY_ENV in str(caught.value)
    assert other not in str(caught.value)


def test_installation_id_given_skips_the_lookup(sandbox, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    a = make(sandbox, monkeypatch, installation_id=github_app.installation_id(sandbox, "acme"))
    try:
        full(a)
    finally:
        a.close()
    assert sandbox.count(endpoint="github.repo_installation") == 0
    assert github_app.private_key_pem() not in caplog.text


def test_a_local_clock_off_the_servers_is_corrected_from_its_date_header(sandbox, monkeypatch):
    monkeypatch.setenv("PLANSYNC_NOW", "2026-12-25T00:00:00Z")  # a month after the sandbox's now
    a = make(sandbox, monkeypatch)
    try:
        full(a)
    finally:
        a.close()
    state = github_app.app_state(sandbox)
    assert len(state.refused) == 1 and "exp" in state.refused[0]  # the first JWT, signed by our clock
    assert len(state.minted) == 1  # the second, signed by the server's, was taken


def test_a_write_whose_token_was_revoked_is_sent_once_more_with_a_new_one(sandbox, monkeypatch):
    a = make(sandbox, monkeypatch)
    try:
        item = full(a).scopes[0].items[0]
        github_app.app_state(sandbox).tokens.clear()  # revoked behind plansync's back
        result = a.push_labels(LabelChange("gh", item.id, item.key, add=frozenset({"plan:x"})))
    finally:
        a.close()
    assert result.ok and "plan:x" in sandbox.github_issue(*_repo_number(item.key)).labels
    assert len(github_app.app_state(sandbox).minted) == 2
    assert len([r for r in sandbox.log if r.status == 401]) == 1


def _repo_number(key: str) -> tuple[str, int]:
    repo, _, number = key.partition("#")
    return repo, int(number)


def test_a_request_naming_no_owner_uses_the_apps_only_installation(sandbox, monkeypatch):
    a = make(sandbox, monkeypatch)
    try:
        reply = a.http.request("GET", "/rate_limit", what="GET /rate_limit")  # as GraphQL: no owner in the path
        a.http.request("GET", "/rate_limit", what="GET /rate_limit")
    finally:
        a.close()
    assert reply.status == 200
    assert sandbox.count(endpoint="github.app_installations") == 1 and len(github_app.app_state(sandbox).minted) == 1
    assert not [r for r in sandbox.log if r.status >= 400]


def test_a_request_naming_no_owner_with_several_installations_asks_for_installation_id(sandbox, monkeypatch):
    monkeypatch.setattr(github_app, "installed", lambda sb, owner, repo=None: True)
    sandbox.state.repos["other/x"] = dict(sandbox.state.repos["acme/infra"])
    a = make(sandbox, monkeypatch)
    try:
        with pytest.raises(FatalAPIError, match="2 installations.*installation_id"):
            a.http.request("GET", "/rate_limit", what="GET /rate_limit")
    finally:
        a.close()
