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


def _load_spec(path, name):
    from openapi_core import Config, OpenAPI

    from connector.sandbox.spec_exceptions import patch

    # the patches for where the descriptions are wrong live in one place, with their evidence
    data = patch(name, json.loads(path.read_text()))
    # The published Jira description does not pass openapi-spec-validator itself; validate responses only.
    api = OpenAPI.from_dict(data, config=Config(spec_validator_cls=None))
    api.raw = data  # for validating single schemas where a path's declared response is wrong
    return api


@pytest.fixture(scope="session")
def github_spec(refdata):
    return _load_spec(refdata / "specs/github/api.github.com.issues-subset.json", "github")


@pytest.fixture(scope="session")
def jira_platform_spec(refdata):
    return _load_spec(refdata / "specs/jira/jira-platform.swagger-v3.v3.json", "jira-platform")


@pytest.fixture(scope="session")
def jira_software_spec(refdata):
    return _load_spec(refdata / "specs/jira/jira-software.swagger.v3.json", "jira-software")


@pytest.fixture
def jira_for():
    """A Jira Cloud session with the sandbox credentials, for sandboxes made by sandbox_factory."""
    def make(sb):
        s = requests.Session()
        s.auth = (JIRA_EMAIL, JIRA_TOKEN)
        return s
    return make
