"""config.toml plus `PLANSYNC_...` environment overrides (pydantic-settings), validated up front.

Secrets never live in the file: each tracker names the environment variable holding its token
(`token_env`), read only at the point of use, as a SecretStr.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from connector.errors import ConfigError
from connector.logs import register_secret
from connector.tomlfile import config_error_from, read_toml

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "config.toml"
_STRICT = ConfigDict(extra="forbid")


class StoreSettings(BaseModel):
    model_config = _STRICT
    url: str = "sqlite:///plansync.db"
    keep_days: int = Field(400, ge=1)  # full history this long; one version per item per day beyond it
    prune_batch: int = Field(2000, ge=1)  # rows of each kind one `run` prunes at most
    auto_migrate: bool = True  # false: commands refuse an old schema; `plansync store upgrade` migrates
    migrate_wait_seconds: float = Field(30, ge=0)  # wait this long for another migrator, then exit 4

    @field_validator("url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql")):
            raise ValueError("expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
        return value


class LabelSettings(BaseModel):
    model_config = _STRICT
    prefix: str = "plan:"

    @field_validator("prefix")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip() or len(value) < 2:
            raise ValueError("the owned label prefix must be at least 2 characters, e.g. \"plan:\"")
        return value


class TrackerSettings(BaseModel):
    model_config = _STRICT

    url: str
    token_env: str
    mapping: Path | None = None  # default: the shipped mapping for the tracker's kind
    verify_tls: bool = True  # only ever disabled per tracker, explicitly, with a warning
    timeout: float = Field(30.0, gt=0, le=600)  # seconds, connect and read
    budget_share: float = Field(0.8, gt=0, le=1)  # share of the tracker's rate budget one run may spend
    _name: str = PrivateAttr("")
    _config_file: str = PrivateAttr("")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value.rstrip("/")

    @field_validator("token_env")
    @classmethod
    def _env_name(cls, value: str) -> str:
        if not value or not value.replace("_", "").isalnum():
            raise ValueError(f"expected the NAME of an environment variable, got {value!r}")
        return value

    @property
    def name(self) -> str:
        return self._name

    def token(self) -> SecretStr:
        """The token, read from the environment now; a clear ConfigError (exit 2) when unset."""
        value = os.environ.get(self.token_env, "").strip()
        if not value:
            raise ConfigError(f"environment variable {self.token_env} is not set or is empty "
                              f"(it must hold the {self.name!r} tracker's token)",
                              file=self._config_file or None, key=f"trackers.{self.name}.token_env")
        register_secret(value)
        return SecretStr(value)


class JiraTrackerSettings(TrackerSettings):
    kind: Literal["jira"]
    deployment: Literal["cloud", "server"] | None = None  # None = detect from serverInfo
    auth: Literal["basic", "bearer"] = "basic"
    email: str | None = None

    @model_validator(mode="after")
    def _email_for_basic(self) -> JiraTrackerSettings:
        if self.auth == "basic" and not self.email:
            raise ValueError("`email` is required when auth = \"basic\" (Jira Cloud: email + API token)")
        return self


class GithubTrackerSettings(TrackerSettings):
    kind: Literal["github"]
    api_version: str = "2022-11-28"  # pinned X-GitHub-Api-Version
    write_interval: float = Field(1.0, ge=0)  # seconds between content-creating requests (GitHub guidance)
    writes_per_minute: int = Field(80, ge=0, le=80)  # GitHub's secondary-limit cap; 0 = uncapped (sandbox only)


Tracker = Annotated[JiraTrackerSettings | GithubTrackerSettings, Field(discriminator="kind")]


class SyncSettings(BaseModel):
    model_config = _STRICT
    census_every: int = Field(24, ge=1)  # every N-th sync of a tracker is a full census
    overlap_minutes: int = Field(5, ge=0, le=1440)  # incremental windows overlap by this much
    stale_after_hours: float = Field(24, gt=0)  # a tracker without a good sync for this long is stale


class ReconcileSettings(BaseModel):
    model_config = _STRICT
    stale_days: int = Field(14, ge=1)  # in progress with no update for this long is "stale"
    forecast_runs: int = Field(2000, ge=100, le=100_000)  # Monte Carlo samples
    seed: int = 0


class ApplySettings(BaseModel):
    model_config = _STRICT
    max_change_share: float = Field(0.30, gt=0, le=1)  # refuse (without --force) above this share


class PublishSettings(BaseModel):
    model_config = _STRICT
    tracker: str
    issue: str  # "CHK-1" on Jira, "acme/checkout-web#1" on GitHub


class ReportSettings(BaseModel):
    model_config = _STRICT
    out_dir: Path = Path("reports")
    formats: tuple[Literal["md", "html", "json"], ...] = ("md", "html", "json")
    publish: PublishSettings | None = None  # off by default: the one write outside the label prefix


class LeaseSettings(BaseModel):
    model_config = _STRICT
    ttl_seconds: int = Field(300, ge=10)


class Settings(BaseSettings):
    """The whole config.toml; environment variables `PLANSYNC_SECTION__KEY` override the file."""

    model_config = SettingsConfigDict(env_prefix="PLANSYNC_", env_nested_delimiter="__", extra="forbid",
                                      env_ignore_empty=True)

    store: StoreSettings = StoreSettings()
    labels: LabelSettings = LabelSettings()
    trackers: dict[str, Tracker] = Field(default_factory=dict)
    sync: SyncSettings = SyncSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
    apply: ApplySettings = ApplySettings()
    report: ReportSettings = ReportSettings()
    lease: LeaseSettings = LeaseSettings()

    _path: Path = PrivateAttr(Path(DEFAULT_CONFIG))

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # the environment wins over the file, which arrives as init kwargs
        return (env_settings, init_settings)

    @property
    def path(self) -> Path:
        return self._path

    def tracker(self, name: str) -> JiraTrackerSettings | GithubTrackerSettings:
        try:
            return self.trackers[name]
        except KeyError:
            known = ", ".join(sorted(self.trackers)) or "none"
            raise ConfigError(f"no tracker named {name!r} (configured: {known})", file=str(self._path),
                              key="trackers") from None


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate config.toml (plus environment overrides); ConfigError on any problem."""
    path = Path(path or os.environ.get("PLANSYNC_CONFIG") or DEFAULT_CONFIG)
    data, locator = read_toml(path, "config file")
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise config_error_from(exc, path, locator, union_at=2) from None
    except (TypeError, ValueError) as exc:  # e.g. a non-table where a table belongs
        raise ConfigError(str(exc), file=str(path)) from None
    settings._path = path
    base = path.resolve().parent
    if not settings.trackers:
        raise ConfigError("no trackers configured; add a [trackers.NAME] table", file=str(path),
                          key="trackers")
    for name, tracker in settings.trackers.items():
        tracker._name = name
        tracker._config_file = str(path)
        if tracker.mapping is not None and not tracker.mapping.is_absolute():
            tracker.mapping = base / tracker.mapping
        if not tracker.verify_tls:
            log.warning("TLS verification is disabled for tracker %r (verify_tls = false)", name)
    _resolve_relative(settings, base)
    return settings


def _resolve_relative(settings: Settings, base: Path) -> None:
    """Relative paths in the config are relative to the config file, so cron's cwd does not matter."""
    url = settings.store.url
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix):].startswith(("/", ":memory:")) and url != "sqlite://":
        settings.store.url = prefix + str(base / url[len(prefix):])
    if not settings.report.out_dir.is_absolute():
        settings.report.out_dir = base / settings.report.out_dir


def settings_summary(settings: Settings) -> dict[str, Any]:
    """A secret-free view for logs and `doctor`."""
    return {"store": settings.store.url.split("@")[-1], "trackers": {
        name: {"kind": t.kind, "url": t.url, "token_env": t.token_env} for name, t in settings.trackers.items()}}
