"""Shared helpers for the sandbox tests: authenticated sessions and the vendors' OpenAPI descriptions."""

from __future__ import annotations

import json

import pytest
import requests

from connector.sandbox import GITHUB_TOKEN, JIRA_EMAIL, JIRA_TOKEN


@pytest.fixture
def jira(sandbox):
    s = requests.Session()
    s.auth = (JIRA_EMAIL, JIRA_TOKEN)
    s.base = sandbox.jira_url
    return s


@pytest.fixture
def gh(sandbox):
    s = requests.Session()
    s.headers["Authorization"] = f"token {GITHUB_TOKEN}"
    return s


def _walk(node, fn):
    if isinstance(node, dict):
        fn(node)
        for v in node.values():
            _walk(v, fn)
    elif isinstance(node, list):
        for v in node:
            _walk(v, fn)


def _load_spec(path, fix):
    from openapi_core import Config, OpenAPI

    data = json.loads(path.read_text())
    _walk(data, fix)
    # The published Jira description does not pass openapi-spec-validator itself; validate responses only.
    api = OpenAPI.from_dict(data, config=Config(spec_validator_cls=None))
    api.raw = data  # for validating single schemas where a path's declared response is wrong
    return api


def _github_fix(node):
    # Real GitHub sends `"state_reason": null` on open issues; the description marks the field nullable but
    # lists only strings in its enum, which OpenAPI 3.0 validators read as "null not allowed".
    if node.get("nullable") and isinstance(node.get("enum"), list) and None not in node["enum"]:
        node["enum"] = [*node["enum"], None]


def _jira_fix(node):
    # Real Jira timestamps look like 2026-11-20T14:03:11.123+0000 (no colon in the offset), which the
    # description's `format: date-time` (RFC 3339) rejects; the recorded responses are the authority.
    if node.get("format") == "date-time" and node.get("type") == "string":
        del node["format"]
    # Recorded changelogs (refdata DevLake rows) carry "from": null / "fromString": null when a value is
    # added; the description types them as non-nullable strings.
    comps = node.get("components")
    change = comps.get("schemas", {}).get("ChangeDetails") if isinstance(comps, dict) else None
    if isinstance(change, dict) and "properties" in change:
        for prop in change["properties"].values():
            prop["nullable"] = True


@pytest.fixture(scope="session")
def github_spec(refdata):
    return _load_spec(refdata / "specs/github/api.github.com.issues-subset.json", _github_fix)


@pytest.fixture(scope="session")
def jira_platform_spec(refdata):
    return _load_spec(refdata / "specs/jira/jira-platform.swagger-v3.v3.json", _jira_fix)


@pytest.fixture(scope="session")
def jira_software_spec(refdata):
    return _load_spec(refdata / "specs/jira/jira-software.swagger.v3.json", _jira_fix)


@pytest.fixture
def jira_for():
    """A Jira Cloud session with the sandbox credentials, for sandboxes made by sandbox_factory."""
    def make(sb):
        s = requests.Session()
        s.auth = (JIRA_EMAIL, JIRA_TOKEN)
        return s
    return make
