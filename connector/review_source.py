"""Where a plan review's other plan comes from: a file (`--proposed FILE`) or the plan file as it is at a
git ref of the checkout that holds it (`--against REF`). Either is validated exactly as `validate` does."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from connector.errors import ConfigError
from connector.model import Plan
from connector.plan_file import DEFAULT_PLAN, load_plan
from connector.settings import Settings


def plan_path(plan: Path | None) -> Path:
    return Path(plan or os.environ.get("PLANSYNC_PLAN") or DEFAULT_PLAN)


def load_plan_at(ref: str, plan: Path | None, settings: Settings) -> tuple[Plan, str]:
    """The plan file as committed at `ref` (`git show REF:./file` in the file's folder) and its name as
    `REF:path`; a bad ref, a file missing at that ref, or no git checkout is one line and exit 2."""
    path = plan_path(plan)
    if not ref.strip() or ref.startswith("-"):
        raise ConfigError(f"expected a git ref such as origin/main, got {ref!r}", key="--against")
    folder = path.resolve().parent
    if not folder.is_dir():
        raise ConfigError("the plan file's folder does not exist", file=str(path))
    name = f"{ref}:{path.name}"
    try:
        shown = subprocess.run(["git", "-C", str(folder), "show", f"{ref}:./{path.name}"], capture_output=True,
                               timeout=60, check=False)
    except FileNotFoundError:
        raise ConfigError("git is not installed; --against needs it", key="--against") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"git show {name} did not answer within 60 s", key="--against") from None
    if shown.returncode != 0:
        why = shown.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ConfigError(f"cannot read the plan at {ref!r}: {why[-1] if why else 'git failed'}",
                          key="--against")
    with tempfile.TemporaryDirectory(prefix="plansync-review-") as folder_at:
        copy = Path(folder_at) / path.name
        copy.write_bytes(shown.stdout)
        try:
            return load_plan(copy, settings), name
        except ConfigError as exc:  # named as git names it, not by the temporary copy
            raise ConfigError(exc.detail, file=name, key=exc.key, line=exc.line) from None
