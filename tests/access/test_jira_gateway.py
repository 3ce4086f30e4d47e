"""Jira Cloud service accounts: scoped tokens through the Atlassian API gateway (`cloud_id` / `api_url`),
browse links on the site, the cloud id `doctor` discovers, and the one line a 401 from the site gives."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from connector.errors import AuthError
from connector.sandbox import JIRA_EMAIL, JIRA_TOKEN
from connector.sandbox.jira_access import CLOUD_ID, SCOPED_TOKEN, SERVICE_EMAIL
from connector.trackers.jira.adapter import JiraAdapter
from connector.trackers.jira.config import GATEWAY, JiraTrackerSettings
from connector.trackers.jira.mapping import load_jira_mapping
from connector.trackers.jira.scopes import JiraScope
from connector.values import PullSpec

SCOPE = JiraScope(tracker="jira", jql="project = CHK")


def settings(sandbox, **kw) -> JiraTrackerSettings:
    base = {"kind": "jira", "url": sandbox.jira_url, "auth": "basic", "email": SERVICE_EMAIL,
            "token_env": "JIRA_API_TOKEN", "timeout": 10} | kw
    tracker = JiraTrackerSettings(**base)
    tracker._name = "jira"
    return tracker


def adapter(tracker, token=SCOPED_TOKEN) -> JiraAdapter:
    return JiraAdapter(tracker, load_jira_mapping(), token=token)


def test_cloud_id_derives_the_gateway_and_api_url_wins():
    tracker = JiraTrackerSettings(kind="jira", url="https://acme.atlassian.net", email="a@b.c", token_env="T",
                                  cloud_id=CLOUD_ID)
    assert tracker.api_base == f"{GATEWAY}/{CLOUD_ID}" == f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"
    proxied = tracker.model_copy(update={"api_url": "https://proxy.example/jira"})
    assert proxied.api_base == "https://proxy.example/jira"
    classic = JiraTrackerSettings(kind="jira", url="https://acme.atlassian.net", email="a@b.c", token_env="T")
    assert classic.api_base == "https://acme.atlassian.net" and not classic.via_gateway


@pytest.mark.parametrize("bad", ["", "not a cloud id!", "a/b"])
def test_a_malformed_cloud_id_is_refused_offline(bad):
    with pytest.raises(ValidationError, match="cloud id"):
        JiraTrackerSettings(kind="jira", url="https://acme.atlassian.net", email="a@b.c", token_env="T",
                            cloud_id=bad)


def test_cloud_id_with_a_server_deployment_is_refused():
    with pytest.raises(ValidationError, match="cloud_id"):
        JiraTrackerSettings(kind="jira", url="https://jira.example", email="a@b.c", token_env="T",
                            deployment="server", cloud_id=CLOUD_ID)


def test_scoped_token_pulls_through_the_gateway_and_links_stay_on_the_site(sandbox):
    gateway = f"{sandbox.url}/ex/jira/{CLOUD_ID}"
    a = adapter(settings(sandbox, cloud_id=CLOUD_ID, api_url=gateway))
    try:
        result = a.pull(PullSpec(scopes=(SCOPE,), cursors={}, full=True))
        identity = a.check()
    finally:
        a.close()
    items = result.scopes[0].items
    assert items and all(i.url.startswith(sandbox.jira_url + "/browse/") for i in items)
    api_paths = [r.path for r in sandbox.log if "/rest/" in r.path]
    assert api_paths and all(p.startswith(f"/ex/jira/{CLOUD_ID}/rest/") for p in api_paths)
    assert not [r for r in sandbox.log if r.status == 401]
    assert identity.deployment == "cloud" and f"through the API gateway {gateway}" in identity.detail


def test_the_site_answers_401_to_a_scoped_token_and_doctor_names_the_cloud_id(sandbox):
    a = adapter(settings(sandbox, deployment="cloud"))
    try:
        with pytest.raises(AuthError) as caught:
            a.pull(PullSpec(scopes=(SCOPE,), cursors={}, full=True))
        assert "HTTP 401" in str(caught.value) and "gateway" in str(caught.value)
        assert "set cloud_id in [trackers.jira]" in str(caught.value)
        assert "\n" not in str(caught.value)
        with pytest.raises(AuthError) as doctor:
            a.check()
    finally:
        a.close()
    assert f'cloud_id = "{CLOUD_ID}"' in str(doctor.value) and "\n" not in str(doctor.value)
    assert SCOPED_TOKEN not in str(doctor.value) + str(caught.value)
    tenant = [r for r in sandbox.log if r.path.endswith("/_edge/tenant_info")]
    assert tenant and tenant[0].status == 200


def test_doctor_prints_the_cloud_id_for_a_classic_token(sandbox):
    a = adapter(settings(sandbox, deployment="cloud", email=JIRA_EMAIL), token=JIRA_TOKEN)
    try:
        identity = a.check()
    finally:
        a.close()
    assert f'cloud id {CLOUD_ID}' in identity.detail


def test_a_classic_token_through_the_gateway_still_works(sandbox):
    a = adapter(settings(sandbox, email=JIRA_EMAIL, cloud_id=CLOUD_ID, api_url=f"{sandbox.url}/ex/jira/{CLOUD_ID}"),
                token=JIRA_TOKEN)
    try:
        assert a.check().user
    finally:
        a.close()


def test_a_server_site_gets_no_gateway_hint(sandbox):
    tracker = JiraTrackerSettings(kind="jira", url=sandbox.jira_server_url, deployment="server", auth="bearer",
                                  token_env="T", timeout=10)
    tracker._name = "jira"
    a = JiraAdapter(tracker, load_jira_mapping(), token="wrong")
    try:
        with pytest.raises(AuthError) as caught:
            a.check()
    finally:
        a.close()
    assert "gateway" not in str(caught.value)


def test_a_401_through_the_gateway_names_the_scopes(sandbox):
    a = adapter(settings(sandbox, cloud_id=CLOUD_ID, api_url=f"{sandbox.url}/ex/jira/{CLOUD_ID}"), token="revoked")
    try:
        with pytest.raises(AuthError) as caught:
            a.check()
    finally:
        a.close()
    assert "read:jira-work" in str(caught.value) and "set cloud_id" not in str(caught.value)
