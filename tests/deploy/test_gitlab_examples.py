"""The GitLab deployment examples (deploy/examples/gitlab/) stay valid: the config loads with all three
trackers, and the sync CronJob is a valid Kubernetes object that runs only the GitLab pull."""

from __future__ import annotations

import kubernetes_validate
import yaml

from connector.settings import load_settings
from tests.deploy.commands import REPO

EXAMPLES = REPO / "deploy" / "examples" / "gitlab"


def test_the_example_config_has_a_gitlab_tracker():
    settings = load_settings(EXAMPLES / "config.toml")
    assert set(settings.trackers) == {"jira", "github", "gitlab"}
    assert settings.trackers["gitlab"].kind == "gitlab" and settings.trackers["gitlab"].token_env == "GITLAB_TOKEN"


def test_the_gitlab_sync_cronjob_is_valid_and_pulls_only_gitlab():
    doc = yaml.safe_load((EXAMPLES / "cronjob-sync-gitlab.yaml").read_text())
    kubernetes_validate.validate(doc, "1.30", strict=True)
    container = doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][-2:] == ["--tracker", "gitlab"]
    assert {e["name"] for e in container["env"]} == {"PLANSYNC_STORE__URL", "GITLAB_TOKEN"}
