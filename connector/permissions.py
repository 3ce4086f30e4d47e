"""What `doctor` says about each permission plansync needs on a tracker: granted, missing or unknown, and
the exact fix. Kinds produce these (`permission_checks` on an adapter); doctor prints them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["granted", "missing", "unknown"]


@dataclass(frozen=True)
class Permission:
    need: str  # "read issues", "write labels", "bulk edit", "suppress notifications", "comment", "projects"
    status: Status
    detail: str = ""  # where it was read from / what it covers
    fix: str = ""  # what to change when missing or unknown
    required: bool = True  # missing fails doctor (exit 1); optional ones only cost requests or quiet

    @property
    def fails(self) -> bool:
        return self.required and self.status == "missing"

    def line(self) -> str:
        text = f"{self.need:<22} {self.status}"
        if self.detail:
            text += f" ({self.detail})"
        if self.fix and self.status != "granted":
            text += f"; fix: {self.fix}"
        return text
