"""Reading the TOML files users write, and turning every problem into one line naming file, key, line.

tomllib reports syntax errors with a line; for semantic errors we find the key's line ourselves with a
small scan of the text (tables, arrays of tables and `key =` lines), which is all these files use.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from connector.errors import ConfigError

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")

KeyPath = tuple[str | int, ...]


def _split_dotted(name: str) -> list[str]:
    parts = re.findall(r"""\"[^\"]*\"|'[^']*'|[^.]+""", name)
    return [p.strip().strip("\"'") for p in parts]


class Locator:
    """Maps key paths like ("milestones", 1, "scope", 0, "jql") to 1-based line numbers."""

    def __init__(self, text: str) -> None:
        self.lines: dict[KeyPath, int] = {}
        counters: dict[tuple[str, ...], int] = {}
        current: KeyPath = ()
        for number, line in enumerate(text.splitlines(), start=1):
            header = _HEADER.match(line)
            if header and not _KEY.match(line):
                names = _split_dotted(header.group(2))
                path: list[str | int] = []
                for depth, name in enumerate(names):
                    path.append(name)
                    plain = tuple(str(p) for p in path if isinstance(p, str))
                    is_last = depth == len(names) - 1
                    if header.group(1) == "[[" and is_last:
                        index = counters.get(plain, -1) + 1
                        counters[plain] = index
                        # a new parent element resets the counters of arrays nested under it
                        for other in [k for k in counters if len(k) > len(plain) and k[: len(plain)] == plain]:
                            del counters[other]
                        path.append(index)
                    elif plain in counters:
                        path.append(counters[plain])
                current = tuple(path)
                self.lines.setdefault(current, number)
                continue
            key = _KEY.match(line)
            if key:
                self.lines.setdefault(current + (key.group(1).strip("\"'"),), number)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None


def dotted(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def read_toml(path: str | Path, what: str) -> tuple[dict[str, Any], Locator]:
    """Parse a user's TOML file; a missing file or a syntax error is a ConfigError with the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", file=str(path)) from None
    except IsADirectoryError:
        raise ConfigError(f"{what} is a directory, expected a TOML file", file=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} is not UTF-8 text", file=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read {what}: {exc.strerror}", file=str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        if line is None:
            found = re.search(r"line (\d+)", str(exc))
            line = int(found.group(1)) if found else None
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", getattr(exc, "msg", str(exc)))
        raise ConfigError(f"invalid TOML: {message}", file=str(path), line=line) from None
    return data, Locator(text)


def _describe(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    if kind.startswith("date") or kind.startswith("datetime"):
        return f"expected a date like 2026-12-15, got {error.get('input')!r}"
    if kind == "literal_error":
        return f"{error.get('msg', 'invalid value')}, got {error.get('input')!r}"
    if kind == "union_tag_invalid":
        return f"unknown kind {error.get('ctx', {}).get('tag')!r}; expected one of {error.get('ctx', {}).get('expected_tags')}"
    if kind == "union_tag_not_found":
        return f"required key `kind` is missing ({' or '.join(error.get('ctx', {}).get('expected_tags', '').replace(chr(39), '').split(', '))})"
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    value = error.get("input")
    if kind in ("enum", "greater_than", "greater_than_equal", "less_than", "less_than_equal", "int_parsing",
                "float_parsing", "bool_parsing", "string_type", "int_type", "float_type") \
            and isinstance(value, (str, int, float, bool)):
        message += f", got {value!r}"
    return message


def config_error_from(exc: ValidationError, file: str | Path, locator: Locator,
                      union_at: int | None = None, prefix: tuple[str | int, ...] = ()) -> ConfigError:
    """The first validation problem as one ConfigError; `union_at` is where pydantic puts a
    discriminated union's tag in the path (noise to a user), e.g. 2 for trackers.NAME.<tag>.url."""
    error = exc.errors(include_url=False)[0]
    path = prefix + tuple(error.get("loc", ()))
    if union_at is not None and len(path) > union_at + 1 and path[0] == "trackers":
        path = path[:union_at] + path[union_at + 1:]
    return ConfigError(_describe(error), file=str(file), key=dotted(path) or None,
                       line=locator.line_of(path))
