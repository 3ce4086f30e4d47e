"""The sandbox's bot-identity surface validates against the vendors' descriptions: the GitHub App endpoints
(GET /app, installation lookups, minting installation tokens, their refusals) and Jira through the gateway."""

from __future__ import annotations

import base64

import jwt
import pytest
import requests

from connector.sandbox import github_app
from connector.sandbox.jira_access import CLOUD_ID, SCOPED_TOKEN, SERVICE_EMAIL
from connector.sandbox.validation import SPEC_DIR

pytestmark = pytest.mark.skipif(not SPEC_DIR.is_dir(), reason="the vendors' descriptions are not in ../shared/refdata")


def app_jwt(sb, *, iss=github_app.APP_ID, lifetime=540, key=None) -> str:
    now = int(sb.clock.ts())
    return jwt.encode({"iat": now - 60, "exp": now + lifetime, "iss": str(iss)}, key or github_app.private_key_pem(),
                      algorithm="RS256")


def test_app_endpoints_and_their_refusals_match_the_description(sandbox_factory):
    sb = sandbox_factory(validate=True)
    gh = sb.github_url
    bearer = {"Authorization": f"Bearer {app_jwt(sb)}", "Accept": "application/vnd.github+json"}
    assert requests.get(f"{gh}/app", headers=bearer).status_code == 200
    assert [i["account"]["login"] for i in requests.get(f"{gh}/app/installations", headers=bearer).json()] == ["acme"]
    found = requests.get(f"{gh}/repos/acme/infra/installation", headers=bearer)
    assert found.status_code == 200 and found.json()["app_id"] == github_app.APP_ID
    assert requests.get(f"{gh}/orgs/acme/installation", headers=bearer).status_code == 200
    assert requests.get(f"{gh}/orgs/nobody/installation", headers=bearer).status_code == 404
    assert requests.get(f"{gh}/repos/acme/nothing/installation", headers=bearer).status_code == 404
    minted = requests.post(f"{gh}/app/installations/{found.json()['id']}/access_tokens", headers=bearer, json={})
    assert minted.status_code == 201 and minted.json()["token"].startswith("ghs_")
    assert requests.post(f"{gh}/app/installations/1/access_tokens", headers=bearer, json={}).status_code == 404
    token = {"Authorization": f"token {minted.json()['token']}"}
    assert requests.get(f"{gh}/repos/acme/infra/issues", headers=token).status_code == 200
    assert sb.validator.tally.requests >= 9 and sb.violations == [], sb.violations


@pytest.mark.parametrize("problem", ["issuer", "too-long", "expired", "not-a-jwt", "other-key"])
def test_a_bad_jwt_is_refused_401(sandbox_factory, problem):
    sb = sandbox_factory(validate=True)
    if problem == "issuer":
        token = app_jwt(sb, iss=1)
    elif problem == "too-long":
        token = app_jwt(sb, lifetime=3600)
    elif problem == "expired":
        token = app_jwt(sb)
        sb.clock.advance(minutes=11)
    elif problem == "other-key":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import rsa

        other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
        token = app_jwt(sb, key=other)
    else:
        token = "sandbox-github-token"
    resp = requests.post(f"{sb.github_url}/app/installations/7000/access_tokens",
                         headers={"Authorization": f"Bearer {token}"}, json={})
    assert resp.status_code == 401 and github_app.app_state(sb).minted == []
    assert sb.violations == []


def test_an_installation_token_expires_by_the_sandbox_clock(sandbox_factory):
    sb = sandbox_factory()
    github_app.app_state(sb).token_lifetime = 120
    bearer = {"Authorization": f"Bearer {app_jwt(sb)}"}
    token = requests.post(f"{sb.github_url}/app/installations/7000/access_tokens", headers=bearer, json={}).json()
    headers = {"Authorization": f"token {token['token']}"}
    assert requests.get(f"{sb.github_url}/repos/acme/infra/issues", headers=headers).status_code == 200
    sb.clock.advance(seconds=121)
    assert requests.get(f"{sb.github_url}/repos/acme/infra/issues", headers=headers).status_code == 401


def test_the_gateway_takes_the_scoped_token_the_site_refuses(sandbox_factory):
    sb = sandbox_factory(validate=True)
    basic = {"Authorization": "Basic " + base64.b64encode(f"{SERVICE_EMAIL}:{SCOPED_TOKEN}".encode()).decode()}
    assert requests.get(f"{sb.jira_url}/rest/api/3/myself", headers=basic).status_code == 401
    assert requests.get(f"{sb.url}/ex/jira/{CLOUD_ID}/rest/api/3/myself", headers=basic).status_code == 200
    assert requests.get(f"{sb.url}/ex/jira/not-this-site/rest/api/3/myself", headers=basic).status_code == 404
    assert requests.get(f"{sb.jira_url}/_edge/tenant_info").json() == {"cloudId": CLOUD_ID}
    assert sb.violations == [], sb.violations
