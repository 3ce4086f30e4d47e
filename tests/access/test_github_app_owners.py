"""A GitHub App across owners (faked with `responses`): one installation looked up and one token minted per
owner, each request carrying its owner's token, each installation's rate limit counted on its own."""

from __future__ import annotations

import json
import re
import time
from email.utils import formatdate

import responses

from connector.http import RetryPolicy
from connector.sandbox.github_app import private_key_pem
from connector.trackers.github.adapter import GithubAdapter
from connector.trackers.github.config import GithubTrackerSettings
from connector.trackers.github.mapping import load_github_mapping
from connector.trackers.github.scopes import GithubScope
from connector.values import PullSpec

API = "https://api.github.com"
HOST = r"https://api\.github\.com(:443)?"
OWNERS = {"alpha": (11, "ghs_" + "a" * 36, 4000), "beta": (22, "ghs_" + "b" * 36, 1200)}


def headers(remaining: int | None = None) -> dict[str, str]:
    out = {"Date": formatdate(time.time(), usegmt=True)}
    if remaining is not None:
        out |= {"X-RateLimit-Limit": "5000", "X-RateLimit-Remaining": str(remaining),
                "X-RateLimit-Reset": str(int(time.time()) + 3600)}
    return out


def test_one_installation_and_token_per_owner(monkeypatch):
    monkeypatch.setenv("APP_KEY", private_key_pem())
    tracker = GithubTrackerSettings(kind="github", url=API, app_id=5, private_key_env="APP_KEY")
    tracker._name = "gh"
    seen: list[tuple[str, str]] = []
    with responses.RequestsMock() as rsps:
        for owner, (iid, token, remaining) in OWNERS.items():
            # PyGithub's integration names the port (https://api.github.com:443/...)
            rsps.get(re.compile(rf"{HOST}/repos/{owner}/web/installation"), json={"id": iid, "app_id": 5},
                     headers=headers())
            rsps.post(re.compile(rf"{HOST}/app/installations/{iid}/access_tokens"), status=201, headers=headers(),
                      json={"token": token, "expires_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                         time.gmtime(time.time() + 3600)),
                            "permissions": {"issues": "write"}})

            def listing(request, owner=owner, remaining=remaining):
                seen.append((owner, request.headers["Authorization"]))
                return 200, headers(remaining), json.dumps([])
            rsps.add_callback(responses.GET, re.compile(rf"{HOST}/repos/{owner}/web/(issues|milestones)\b.*"),
                              callback=listing)
        adapter = GithubAdapter(tracker, load_github_mapping(), policy=RetryPolicy(attempts=1))
        try:
            adapter.pull(PullSpec(scopes=tuple(GithubScope(tracker="gh", repo=f"{o}/web") for o in OWNERS),
                                  cursors={}, full=True))
            rates = dict(adapter.http.app.rates)
        finally:
            adapter.close()
        minted = [c for c in rsps.calls if c.request.url.endswith("/access_tokens")]
        lookups = [c for c in rsps.calls if c.request.url.endswith("/installation")]
    assert len(minted) == 2 and len(lookups) == 2
    assert all(call.request.headers["Authorization"].startswith("Bearer ey") for call in minted + lookups)
    assert seen and all(auth == f"token {OWNERS[owner][1]}" for owner, auth in seen)
    assert {iid: rate[0] for iid, rate in rates.items()} == {11: 4000, 22: 1200}


def test_the_runs_rate_figure_is_the_installation_with_least_left(monkeypatch):
    from connector.trackers.github.http import GithubTransport
    from connector.values import RequestStats

    monkeypatch.setenv("APP_KEY", private_key_pem())
    tracker = GithubTrackerSettings(kind="github", url=API, app_id=5, private_key_env="APP_KEY")
    stats = RequestStats()
    transport = GithubTransport(tracker, stats, RetryPolicy(attempts=1))
    try:
        for iid, remaining in ((11, 4000), (22, 1200), (11, 3990)):
            transport._installation = iid
            transport._note_rate({"x-ratelimit-remaining": str(remaining), "x-ratelimit-limit": "5000",
                                  "x-ratelimit-reset": str(int(time.time()) + 60)})
    finally:
        transport.close()
    assert stats.rate_remaining == 1200 and stats.rate_limit == 5000
    assert transport.app.rates[11][0] == 3990
