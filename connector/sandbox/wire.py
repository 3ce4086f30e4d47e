"""Small request/response types shared by the vendor API modules and the WSGI app."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from werkzeug.wrappers import Request


@dataclass
class Resp:
    status: int
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    endpoint: str = ""
    faulted: bool = False  # an injected fault shaped this answer


def json_resp(obj, status: int = 200, headers: dict | None = None, endpoint: str = "") -> Resp:
    h = {"Content-Type": "application/json;charset=UTF-8"}
    h.update(headers or {})
    return Resp(status, json.dumps(obj, separators=(",", ":"), check_circular=False).encode(), h, endpoint)


class BadRequest(Exception):
    """A malformed request: the app answers it in the vendor's error shape (Jira 400, GitHub 400/422)."""

    def __init__(self, message: str, status: int = 400, errors: dict | None = None):
        super().__init__(message)
        self.message, self.status, self.errors = message, status, errors or {}


@dataclass
class Req:
    """One incoming request, seen from inside a flavour (path without the /jira or /github prefix)."""

    raw: Request
    method: str
    path: str
    flavour: str
    base: str  # absolute URL of the flavour root, e.g. http://127.0.0.1:5000/jira

    @property
    def args(self):
        return self.raw.args

    def json(self) -> dict:
        data = self.raw.get_data(cache=True)
        if not data:
            return {}
        try:
            out = json.loads(data)
        except ValueError:
            return {}
        return out if isinstance(out, dict) else {}

    def body(self, kind=dict):
        """The JSON body, strictly: invalid JSON or another top-level type is a BadRequest."""
        data = self.raw.get_data(cache=True)
        try:
            out = json.loads(data) if data else kind()
        except ValueError:
            raise BadRequest("Problems parsing JSON" if self.flavour == "github" else
                             "Unexpected character in the request body: it is not valid JSON.") from None
        if not isinstance(out, kind):
            raise BadRequest("Invalid request body: expected a JSON " + ("object" if kind is dict else "value"),
                             422 if self.flavour == "github" else 400)
        return out

    def int_arg(self, name: str, default: int, source: dict | None = None) -> int:
        value = (source or {}).get(name, self.raw.args.get(name, default))
        try:
            return int(value)
        except (TypeError, ValueError):
            raise BadRequest(f"The {name} parameter must be an integer; got '{value}'.") from None


class Router:
    """(method, regex) → (endpoint name, handler); fewest placeholders first, then the first match wins."""

    def __init__(self):
        self.routes: list[tuple[str, re.Pattern, str, object]] = []

    def add(self, method: str, pattern: str, name: str):
        def deco(fn):
            rx = re.compile("^" + pattern + "$")
            # fewer placeholders first: /project/search wins over /project/{key}; otherwise in order added
            at = next((n for n, r in enumerate(self.routes) if r[1].groups > rx.groups), len(self.routes))
            self.routes.insert(at, (method, rx, name, fn))
            return fn
        return deco

    def match(self, method: str, path: str):
        allowed = False
        for m, rx, name, fn in self.routes:
            mt = rx.match(path)
            if mt:
                if m == method or (m == "GET" and method == "HEAD"):
                    return name, fn, mt.groupdict()
                allowed = True
        return ("method_not_allowed" if allowed else "not_found"), None, {}


_MEMO: dict = {}


def memo(key, make):
    """Render-once cache for records that never change after generation (users, statuses, projects,
    labels, milestones), per base URL; callers only serialise the result, never mutate it."""
    hit = _MEMO.get(key)
    if hit is None:
        if len(_MEMO) > 4096:
            _MEMO.clear()
        hit = _MEMO[key] = make()
    return hit
