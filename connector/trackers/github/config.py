"""The `[trackers.NAME]` table of a GitHub tracker (github.com or Enterprise Server)."""

from __future__ import annotations

import os
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connector.errors import ConfigError
from connector.logs import register_secret
from connector.settings import TrackerSettings


class ProjectFields(BaseModel):
    """`[trackers.NAME.project_fields]`: which Projects v2 fields feed an item read through a project scope."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    due: str | None = Field(None, min_length=1)  # a date field, or an iteration field (the iteration's last day)
    status: str | None = Field(None, min_length=1)  # a single-select field; options map in [project_status]


class GithubTrackerSettings(TrackerSettings):
    kind: Literal["github"]
    token_env: str | None = None  # a personal or fine-grained token; not used when app_id is set
    api_version: str = "2022-11-28"  # pinned X-GitHub-Api-Version
    write_interval: float = Field(1.0, ge=0)  # seconds between content-creating requests (GitHub guidance)
    writes_per_hour: int = Field(500, ge=0, le=500)  # content-creating requests an hour (secondary limit); 0 = uncapped
    writes_per_minute: int = Field(80, ge=0, le=80)  # GitHub's secondary-limit cap; 0 = uncapped (sandbox only)
    project_fields: ProjectFields = Field(default_factory=ProjectFields)
    # a GitHub App: short-lived installation tokens minted from the app's private key (PEM in the variable
    # private_key_env names), one installation per owner (looked up unless installation_id is given)
    app_id: int | None = Field(None, ge=1)
    private_key_env: str | None = None
    installation_id: int | None = Field(None, ge=1)

    @field_validator("token_env", "private_key_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and (not value or not value.replace("_", "").isalnum()):
            raise ValueError(f"expected the NAME of an environment variable, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_identity(self) -> GithubTrackerSettings:
        if self.app_id is not None and not self.private_key_env:
            raise ValueError("`private_key_env` is required with `app_id` (the variable holding the GitHub App's "
                             "private key, PEM)")
        if self.app_id is None and (self.private_key_env or self.installation_id):
            raise ValueError("`private_key_env` and `installation_id` need `app_id` (the GitHub App's id)")
        if self.app_id is None and not self.token_env:
            raise ValueError("`token_env` is required (the variable holding a personal or fine-grained token), "
                             "or `app_id` + `private_key_env` for a GitHub App")
        return self

    @property
    def as_app(self) -> bool:
        return self.app_id is not None

    @property
    def secret_env(self) -> str:
        return str(self.private_key_env if self.as_app else self.token_env)

    def token(self) -> SecretStr:
        """The token; for a GitHub App, its private key, read and checked now (exit 2 when unusable)."""
        return self.private_key() if self.as_app else super().token()

    def private_key(self) -> SecretStr:
        """The App's private key from `private_key_env`, checked to be a PEM RSA key. Never in a message."""
        key = f"trackers.{self.name}.private_key_env"
        value = os.environ.get(str(self.private_key_env), "").strip()
        if not value:
            raise ConfigError(f"environment variable {self.private_key_env} is not set or is empty (it must hold "
                              f"the {self.name!r} GitHub App's private key, PEM)", file=self._config_file or None,
                              key=key)
        register_secret(value)
        for line in value.splitlines():  # each line of the key too: a library may log a fragment
            if len(line) >= 16 and not line.startswith("-----"):
                register_secret(line.strip())
        from connector.trackers.github.app import pem_problem

        problem = pem_problem(value)
        if problem:
            raise ConfigError(f"environment variable {self.private_key_env} does not hold a usable private key "
                              f"for GitHub App {self.app_id}: {problem}", file=self._config_file or None, key=key)
        return SecretStr(value)

    def url_note(self) -> str | None:
        """Why `url` looks like no GitHub API root (validate warns; doctor explains the 404 it gets)."""
        parts = urlsplit(self.url)
        host, path = (parts.hostname or "").lower(), parts.path.rstrip("/")
        if host in ("127.0.0.1", "localhost", "::1"):
            return None  # a sandbox or a proxy on this machine: any path
        if host == "github.com":
            return "github.com is the web site; the API root is https://api.github.com"
        if host == "api.github.com":
            return None if not path else f"the API root is https://api.github.com, without {path!r}"
        if path != "/api/v3":
            return f"a GitHub Enterprise API root ends in /api/v3 (https://{host}/api/v3), not {path or '/'!r}"
        return None
