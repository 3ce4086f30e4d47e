"""Turning a sandbox config.toml into the bot identities organisations use: a Jira Cloud service account
through the API gateway, and a GitHub App."""

from __future__ import annotations

from pathlib import Path

from connector.sandbox import JIRA_EMAIL
from connector.sandbox.demo import GITHUB_TOKEN_ENV, JIRA_TOKEN_ENV
from connector.sandbox.github_app import APP_ID, private_key_pem
from connector.sandbox.jira_access import CLOUD_ID, SCOPED_TOKEN, SERVICE_EMAIL

APP_KEY_ENV = "PLANSYNC_SANDBOX_GITHUB_APP_KEY"


def via_gateway(config: Path, sandbox, *, cloud_id: bool = True) -> dict[str, str]:
    """The Jira tracker as a service account (scoped token); with `cloud_id`, through the gateway.
    Returns the environment to run with."""
    text = config.read_text()
    account = f'email = "{SERVICE_EMAIL}"'
    if cloud_id:
        account += f'\ncloud_id = "{CLOUD_ID}"\napi_url = "{sandbox.url}/ex/jira/{CLOUD_ID}"'
    assert f'email = "{JIRA_EMAIL}"' in text
    config.write_text(text.replace(f'email = "{JIRA_EMAIL}"', account, 1))
    return {JIRA_TOKEN_ENV: SCOPED_TOKEN}


def as_github_app(config: Path, *, key: str | None = None, installation_id: int | None = None) -> dict[str, str]:
    """The GitHub tracker as the sandbox's GitHub App (token_env gone). Returns the environment to run with."""
    text = config.read_text()
    line = f'token_env = "{GITHUB_TOKEN_ENV}"'
    assert line in text
    app = f'app_id = {APP_ID}\nprivate_key_env = "{APP_KEY_ENV}"'
    if installation_id:
        app += f"\ninstallation_id = {installation_id}"
    config.write_text(text.replace(line, app, 1))
    return {APP_KEY_ENV: private_key_pem() if key is None else key, GITHUB_TOKEN_ENV: ""}
