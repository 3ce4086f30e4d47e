"""The commands' work: load and check inputs, then sync, reconcile, apply and report.

Everything a user can get wrong is checked before any network call or write (exit 2).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from connector.errors import ConfigError, ExitCode
from connector.mapping import load_mapping
from connector.plan_file import load_plan
from connector.settings import Settings, load_settings

log = logging.getLogger(__name__)


def load_inputs(config: Path | None, plan: Path | None, *, need_plan: bool = True):
    """Config, every tracker's mapping and (optionally) the plan; ConfigError on the first problem."""
    settings = load_settings(config)
    mappings = {}
    for name, tracker in settings.trackers.items():
        if tracker.mapping is not None and not tracker.mapping.is_file():
            raise ConfigError(f"mapping file not found: {tracker.mapping}", file=str(settings.path),
                              key=f"trackers.{name}.mapping")
        mappings[name] = load_mapping(tracker.kind, tracker.mapping)
    declared = load_plan(plan, settings) if need_plan else None
    return settings, mappings, declared


def validate(config: Path | None, plan: Path | None) -> int:
    settings, mappings, declared = load_inputs(config, plan)
    scopes = declared.all_scopes()
    print(f"config  {settings.path}: {len(settings.trackers)} tracker(s): "
          + ", ".join(f"{n} ({t.kind})" for n, t in settings.trackers.items()))
    for name, mapping in mappings.items():
        print(f"mapping {name}: {mapping.source}")
    print(f"plan    {declared.plan.name!r}: {len(declared.milestones)} milestone(s), {len(scopes)} scope(s), "
          f"{len(declared.people)} people, {len(declared.risks)} risk(s)")
    for name, tracker in settings.trackers.items():
        if not os.environ.get(tracker.token_env, "").strip():
            print(f"note    {name}: environment variable {tracker.token_env} is not set; "
                  "commands that reach the tracker will refuse to start")
    print("OK")
    return int(ExitCode.OK)


def _settings_only(config: Path | None) -> Settings:
    return load_settings(config)
