"""Report fixtures: settings for the two trackers, and a store seeded with known history."""

from __future__ import annotations

import pytest

from connector.settings import Settings
from tests.report import history


@pytest.fixture
def settings() -> Settings:
    return Settings(trackers={
        "jira": {"kind": "jira", "url": "https://jira.example.test", "token_env": "JIRA_TOKEN",
                 "email": "bot@example.test"},
        "github": {"kind": "github", "url": "https://github.example.test", "token_env": "GITHUB_TOKEN"}})


@pytest.fixture
def seeded(sqlite_store, monkeypatch):
    history.seed(sqlite_store, monkeypatch)
    return sqlite_store


@pytest.fixture
def hostile_store(sqlite_store, monkeypatch):
    history.seed(sqlite_store, monkeypatch, hostile=True)
    return sqlite_store
