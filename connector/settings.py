"""config.toml plus `PLANSYNC_...` environment overrides (pydantic-settings), validated up front.

Secrets never live in the file: each tracker names the environment variable holding its token
(`token_env`), read only at the point of use, as a SecretStr.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from connector.errors import ConfigError
from connector.logs import register_secret
from connector.tomlfile import config_error_from, read_toml

log = logging.getLogger(__name__)

DEFAULT_CONFIG = "config.toml"
_STRICT = ConfigDict(extra="forbid")


SUPPORTED_STORE_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg")


class StoreSettings(BaseModel):
    model_config = _STRICT
    url: str = "sqlite:///plansync.db"
    namespace: str | None = None  # the plan this store serves; default: the plan's name

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("expected the name of the plan this store serves, e.g. the plan's `name`")
        return value
    keep_days: int = Field(400, ge=1)  # full history this long; one version per item per day beyond it
    prune_batch: int = Field(2000, ge=1)  # rows of each kind one `run` prunes at most
    auto_migrate: bool = True  # false: commands refuse an old schema; `plansync store upgrade` migrates
    migrate_wait_seconds: float = Field(30, ge=0)  # wait this long for another migrator, then exit 4

    @field_validator("url")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        scheme = value.partition("://")[0]
        if scheme not in SUPPORTED_STORE_SCHEMES or "://" not in value:
            raise ValueError(f"unsupported store URL {scheme or value!r}: expected sqlite:///PATH or "
                             "postgresql+psycopg://USER@HOST/DB (postgresql:// means the same; psycopg 3 is "
                             "the only PostgreSQL driver installed)")
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

    @property
    def secret_env(self) -> str:
        """The variable holding this tracker's secret (a kind may hold something else than a token there)."""
        return self.token_env

    def token(self) -> SecretStr:
        """The token, read from the environment now; a clear ConfigError (exit 2) when unset."""
        value = os.environ.get(self.token_env, "").strip()
        if not value:
            raise ConfigError(f"environment variable {self.token_env} is not set or is empty "
                              f"(it must hold the {self.name!r} tracker's token)",
                              file=self._config_file or None, key=f"trackers.{self.name}.token_env")
        register_secret(value)
        return SecretStr(value)


class SyncSettings(BaseModel):
    model_config = _STRICT
    census_every: int = Field(24, ge=1)  # every N-th sync of a tracker is a full census
    overlap_minutes: int = Field(5, ge=0, le=1440)  # incremental windows overlap by this much
    stale_after_hours: float = Field(24, gt=0)  # a tracker without a good sync for this long is stale
    metadata_ttl_hours: float = Field(24, gt=0)  # cached tracker metadata (fields, boards, ...) lives this long


class ReconcileSettings(BaseModel):
    model_config = _STRICT
    stale_days: int = Field(14, ge=1)  # in progress with no update for this long is "stale"
    forecast_runs: int = Field(2000, ge=100, le=100_000)  # Monte Carlo samples
    seed: int = 0
    # throughput window for forecasts: the last N days, never before plan.start (12 weeks is usual)
    forecast_window_days: int = Field(84, ge=7, le=3660)


class ApplySettings(BaseModel):
    model_config = _STRICT
    # refuse (without --force) when the guarded changes (scope, drift) exceed both of these
    max_change_share: float = Field(0.30, gt=0, le=1)  # share of the items the plan covers
    min_guarded_changes: int = Field(10, ge=0)  # and this many


class PublishSettings(BaseModel):
    model_config = _STRICT
    tracker: str
    issue: str  # "CHK-1" on Jira, "acme/checkout-web#1" on GitHub


class ReportSettings(BaseModel):
    model_config = _STRICT
    out_dir: Path = Path("reports")
    formats: tuple[Literal["md", "html", "json"], ...] = ("md", "html", "json")
    publish: PublishSettings | None = None  # off by default: the one write outside the label prefix
    project_status: bool = False  # opt-in: milestones scoped to a tracker project post its status update


class LeaseSettings(BaseModel):
    model_config = _STRICT
    ttl_seconds: int = Field(300, ge=10)


class Settings(BaseSettings):
    """The whole config.toml; environment variables `PLANSYNC_SECTION__KEY` override the file."""

    model_config = SettingsConfigDict(env_prefix="PLANSYNC_", env_nested_delimiter="__", extra="forbid",
                                      env_ignore_empty=True)

    store: StoreSettings = StoreSettings()
    labels: LabelSettings = LabelSettings()
    trackers: dict[str, TrackerSettings] = Field(default_factory=dict)  # typed per kind: settings_model()
    sync: SyncSettings = SyncSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
    apply: ApplySettings = ApplySettings()
    report: ReportSettings = ReportSettings()
    lease: LeaseSettings = LeaseSettings()

    _path: Path = PrivateAttr(Path(DEFAULT_CONFIG))

    @field_validator("trackers", mode="before")
    @classmethod
    def _by_kind(cls, value: Any) -> Any:
        """`Settings(...)` built in code types each tracker by its kind too; `load_settings` uses
        `settings_model()`, whose union also locates errors inside a tracker's table."""
        if cls is not Settings or not isinstance(value, dict):
            return value
        from connector.trackers import registry

        return {name: registry.kind(raw["kind"]).settings.model_validate(raw)
                if isinstance(raw, dict) and isinstance(raw.get("kind"), str) else raw for name, raw in value.items()}

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        # the environment wins over the file, which arrives as init kwargs
        return (env_settings, init_settings)

    @property
    def path(self) -> Path:
        return self._path

    def tracker(self, name: str) -> TrackerSettings:
        try:
            return self.trackers[name]
        except KeyError:
            known = ", ".join(sorted(self.trackers)) or "none"
            raise ConfigError(f"no tracker named {name!r} (configured: {known})", file=str(self._path),
                              key="trackers") from None


_models: dict[int, type[Settings]] = {}


def settings_model() -> type[Settings]:
    """`Settings` with `trackers` typed as the union of every registered kind's config model
    (discriminator `kind`), rebuilt when the registry changes."""
    from connector.trackers import registry

    kinds = registry.kinds()
    model = _models.get(registry.version)
    if model is None:
        configs = tuple(k.settings for k in kinds.values())
        tracker = Annotated[Union[configs], Field(discriminator="kind")] if len(configs) > 1 else configs[0]  # noqa: UP007
        model = create_model("Settings", __base__=Settings, trackers=(dict[str, tracker], Field(default_factory=dict)))
        _models[registry.version] = model
    return model


def load_settings(path: str | Path | None = None) -> Settings:
    """Read and validate config.toml (plus environment overrides); ConfigError on any problem."""
    path = Path(path or os.environ.get("PLANSYNC_CONFIG") or DEFAULT_CONFIG)
    data, locator = read_toml(path, "config file")
    try:
        settings = settings_model()(**data)
    except ValidationError as exc:
        error = config_error_from(exc, path, locator, union_at=2)
        variable = _env_variable(error.key)
        if variable:  # the value came from the environment, not from a line of the file
            raise ConfigError(error.detail, key=f"environment variable {variable} ({error.key})") from None
        raise error from None
    except SettingsError as exc:  # an override pydantic-settings could not parse (lists and tables are JSON)
        raise ConfigError(f"{_unparsable(exc)}: expected JSON for a list or table value, e.g. '[\"md\", \"html\"]'"
                          ) from None
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
    _check_prefix(settings, locator)
    _resolve_relative(settings, base)
    return settings


def _check_prefix(settings: Settings, locator) -> None:
    """Every owned label (prefix + the longest name plansync gives) must be one each configured tracker
    kind accepts: else every write to that tracker fails on every run while the others get theirs."""
    from connector.trackers import registry

    prefix = settings.labels.prefix
    for kind_name in dict.fromkeys(t.kind for t in settings.trackers.values()):
        for suffix in ("off-track", "unplanned"):
            problem = registry.kind(kind_name).label_problem(prefix + suffix)
            if not problem:
                continue
            message = f"{problem}: {prefix + suffix!r} would be refused by the {kind_name!r} trackers"
            variable = _env_variable("labels.prefix")
            if variable:
                raise ConfigError(message, key=f"environment variable {variable} (labels.prefix)")
            raise ConfigError(message, file=str(settings.path), key="labels.prefix",
                              line=locator.line_of(("labels", "prefix")))


def _env_variable(key: str | None) -> str | None:
    """The `PLANSYNC_...` variable that set `key` (or a table above it), if one is set."""
    parts = (key or "").replace("[", ".").replace("]", "").split(".")
    for end in range(len(parts), 0, -1):
        name = "PLANSYNC_" + "__".join(p.upper() for p in parts[:end])
        if os.environ.get(name, "").strip():
            return name
    return None


def _unparsable(exc: Exception) -> str:
    """`error parsing value for field "formats" from source "EnvSettingsSource"` -> the variable's name."""
    import re

    found = re.search(r'field "([^"]+)"', str(exc))
    field = found.group(1) if found else ""
    names = [n for n in os.environ if n.startswith("PLANSYNC_") and n.removeprefix("PLANSYNC_").lower()
             .startswith(field.lower())] if field else []
    return f"environment variable {names[0] if names else 'PLANSYNC_' + field.upper()}: cannot parse its value"


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
