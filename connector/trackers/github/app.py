"""A GitHub App as plansync's identity: JWTs signed with the app's private key (PyGithub's `Auth.AppAuth`),
installation tokens minted through `GithubIntegration` (PyGithub over requests), one per installation (an
installation belongs to one owner), renewed before they expire, mid-run included.

Expiry is judged by the server's clock, learnt from the `Date` header of every answer: a token is renewed
when the server's now is within RENEW_BEFORE of its `expires_at`, so a skewed or pinned local clock
neither uses an expired token nor renews too late. The private key never leaves this module's objects:
it is registered with the log redactor when read, never formatted into a message, and never stored.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import unquote, urlsplit

import requests
from github import Auth, GithubException, GithubIntegration

from connector import clock
from connector.errors import AuthError, FatalAPIError, RetriableAPIError
from connector.http import RetryPolicy, call_with_retry, prepare_session
from connector.logs import MASK, register_secret
from connector.values import RequestStats

log = logging.getLogger(__name__)

RENEW_BEFORE = timedelta(minutes=5)  # installation tokens last an hour; renew with this much left
JWT_LIFETIME = 540  # seconds; GitHub refuses a JWT whose exp is more than 10 minutes after iat
JWT_BACKDATE = 60  # iat a minute in the past, as GitHub advises against clock drift


_TOKEN_IN_BODY = re.compile(r'("token"\s*:\s*")[^"]+(")|\bgh[su]_[A-Za-z0-9]{20,}')


class _TokenBodyFilter(logging.Filter):
    """PyGithub logs each answer's body at debug level, the minted token's among them, before we could
    register that token with the redactor: mask installation tokens in its records by their shape."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _TOKEN_IN_BODY.sub(lambda m: f"{m.group(1)}{MASK}{m.group(2)}" if m.group(1) else MASK, message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


logging.getLogger("github.Requester").addFilter(_TokenBodyFilter())


def pem_problem(value: str) -> str | None:
    """Why `value` is no usable GitHub App key (an unencrypted RSA private key in PEM), None when it is.
    The text never quotes the key."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if "-----BEGIN" not in value or "PRIVATE KEY-----" not in value:
        return "no PEM private key block (-----BEGIN RSA PRIVATE KEY----- ... as GitHub's .pem download has)"
    try:
        key = serialization.load_pem_private_key(value.encode(), password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return "the PEM block is malformed, truncated or encrypted (use the .pem file GitHub generated, as is)"
    if not isinstance(key, rsa.RSAPrivateKey):
        return "not an RSA key (GitHub Apps sign their JWTs with RS256)"
    return None


class ServerClock:
    """The server's now, as its `Date` headers tell it (installation tokens expire by its clock)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def note(self, date_header: str | None) -> float:
        """Learn the server's clock from a `Date` header; returns how far (s) the estimate moved."""
        if not date_header:
            return 0.0
        try:
            when = parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            return 0.0
        offset = (when if when.tzinfo else when.replace(tzinfo=UTC)) - clock.now()
        moved, self._offset = abs((offset - self._offset).total_seconds()), offset
        return moved

    def now(self) -> datetime:
        return clock.now() + self._offset


class ClockedAppAuth(Auth.AppAuth):
    """PyGithub's App auth with the JWT's iat/exp taken from the server's clock rather than time.time()."""

    def __init__(self, app_id: int, private_key: str, server: ServerClock) -> None:
        super().__init__(app_id, private_key, jwt_expiry=JWT_LIFETIME, jwt_issued_at=-JWT_BACKDATE)
        self._server = server

    def create_jwt(self, expiration: int | None = None) -> str:
        now = int(self._server.now().timestamp())
        signed = self._sign_func({"iat": now - JWT_BACKDATE, "exp": now + (expiration or JWT_LIFETIME),
                                  "iss": self._app_id})
        signed = signed.decode() if isinstance(signed, bytes) else signed
        register_secret(signed)  # a credential for its 10 minutes: masked wherever a library logs it
        return signed

    def __repr__(self) -> str:  # never the key
        return f"ClockedAppAuth(app_id={self._app_id})"


@dataclass
class InstallationToken:
    installation: int
    value: str = field(repr=False)
    expires_at: datetime
    permissions: dict


def owner_repo(url: str) -> tuple[str | None, str | None]:
    """The owner (and repo) a request is about, from its path: /repos/{o}/{r}/..., /orgs/{o}/..., /users/{o}."""
    parts = [unquote(p) for p in urlsplit(url).path.split("/") if p]
    for at, part in enumerate(parts):
        if part == "repos" and len(parts) > at + 2:
            return parts[at + 1], parts[at + 2]
        if part in ("orgs", "users") and len(parts) > at + 1:
            return parts[at + 1], None
    return None, None


class InstallationTokens:
    """The tokens of one App tracker, shared by every transport (and thread) of the tracker."""

    def __init__(self, tracker, stats: RequestStats, policy: RetryPolicy, *, user_agent: str) -> None:
        self.tracker, self.name, self.stats, self.policy = tracker, tracker.name, stats, policy
        self.app_id = int(tracker.app_id)
        self.server = ServerClock()
        self._auth = ClockedAppAuth(self.app_id, tracker.private_key().get_secret_value(), self.server)
        self._integration = GithubIntegration(auth=self._auth, base_url=tracker.url, user_agent=user_agent,
                                              timeout=max(1, int(tracker.timeout)), verify=tracker.verify_tls,
                                              retry=None, seconds_between_requests=None,
                                              seconds_between_writes=None, api_version=tracker.api_version)
        create = getattr(self._integration.requester, "_Requester__createConnection", None)
        session = getattr(create(), "session", None) if create else None
        if isinstance(session, requests.Session):  # counted with the tracker's other requests
            prepare_session(session, timeout=tracker.timeout, verify=tracker.verify_tls, stats=stats)
        self._lock = threading.RLock()
        self._ids: dict[str, int] = {}  # owner (lower-case) -> installation id
        self._tokens: dict[int, InstallationToken] = {}
        self.rates: dict[int, tuple[int | None, int | None, datetime | None]] = {}  # per installation
        self.minted = 0

    def __repr__(self) -> str:
        return f"InstallationTokens(app_id={self.app_id}, installations={sorted(self._tokens)})"

    def close(self) -> None:
        self._integration.close()

    # --- tokens ------------------------------------------------------------------------------------
    def token_for(self, owner: str | None, repo: str | None) -> InstallationToken:
        """A live token for the installation serving `owner`, minted or renewed when needed."""
        with self._lock:
            installation = self.installation(owner, repo)
            token = self._tokens.get(installation)
            if token is None or self.server.now() + RENEW_BEFORE >= token.expires_at:
                if token is not None:
                    log.info("%s: renewing the installation token of installation %d (expires %s)", self.name,
                             installation, f"{token.expires_at:%H:%M:%S} UTC")
                token = self._tokens[installation] = self._mint(installation)
            return token

    def forget(self, installation: int) -> None:
        """A token GitHub refused (revoked, or expired early): the next request mints a new one."""
        with self._lock:
            self._tokens.pop(installation, None)

    def installation(self, owner: str | None, repo: str | None) -> int:
        if self.tracker.installation_id:
            return int(self.tracker.installation_id)
        with self._lock:
            if owner is None:  # a path naming no owner (GraphQL, /rate_limit)
                if not self._ids:
                    self._ids["*"] = self._only_installation()  # remembered: listed once per run
                return next(iter(self._ids.values()))
            if owner.lower() not in self._ids:
                self._ids[owner.lower()] = self._look_up(owner, repo)
            return self._ids[owner.lower()]

    def _only_installation(self) -> int:
        """The app's one installation (GET /app/installations), when it has exactly one."""
        found = self._call(lambda: list(self._integration.get_installations()), what="GET /app/installations",
                           missing=f"GitHub App {self.app_id} does not exist (GET /app/installations: 404)")
        if len(found) != 1:
            raise FatalAPIError(self.name, f"GitHub App {self.app_id} has {len(found)} installations and this "
                                "request names no owner to choose one by; set installation_id in "
                                f"[trackers.{self.name}]")
        return int(found[0].id)

    def _look_up(self, owner: str, repo: str | None) -> int:
        where = f"{owner}/{repo}" if repo else owner
        path = f"/repos/{owner}/{repo}/installation" if repo else f"/orgs/{owner}/installation"
        found = self._call(lambda: (self._integration.get_repo_installation(owner, repo) if repo
                                    else self._integration.get_org_installation(owner)),
                           what=f"GET {path}", missing=(f"GitHub App {self.app_id} is not installed on {where} "
                                                        f"(GET {path}: 404); install the app on {where} (or its "
                                                        "owner's account), granting it Issues: read and write"))
        log.info("%s: GitHub App %d is installation %d on %s", self.name, self.app_id, found.id, owner)
        return int(found.id)

    def _mint(self, installation: int) -> InstallationToken:
        path = f"/app/installations/{installation}/access_tokens"
        auth = self._call(lambda: self._integration.get_access_token(installation), what=f"POST {path}",
                          missing=(f"installation {installation} of GitHub App {self.app_id} does not exist "
                                   f"(POST {path}: 404); check installation_id in [trackers.{self.name}]"))
        self.server.note(str((auth.raw_headers or {}).get("date") or ""))
        self.minted += 1
        register_secret(auth.token)
        expires = auth.expires_at
        expires = expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        return InstallationToken(installation, auth.token, expires, dict(auth.permissions or {}))

    def app(self) -> dict:
        """GET /app as the app (the JWT): its slug, name and owner, for `doctor`."""
        found = self._call(self._integration.get_app, what="GET /app", retry=True,
                           missing=f"GitHub App {self.app_id} does not exist (GET /app: 404); check app_id")
        return {"slug": found.slug, "name": found.name,
                "owner": getattr(found.owner, "login", None), "permissions": dict(found.raw_data.get("permissions") or {})}

    def permissions(self, installation: int) -> dict:
        with self._lock:
            token = self._tokens.get(installation)
            return dict(token.permissions) if token else {}

    # --- one place for the integration's errors --------------------------------------------------
    def _call(self, fn, *, what: str, missing: str, retry: bool = False):
        """One integration request. Not retried here by default: minting and lookups happen inside a
        transport request, whose own retry repeats them (retrying here too would multiply the attempts)."""
        def once():
            for attempt in (1, 2):
                try:
                    return fn()
                except GithubException as exc:
                    moved = self.server.note(str((exc.headers or {}).get("date") or ""))
                    if exc.status == 401 and attempt == 1 and moved > JWT_BACKDATE / 2:
                        # our clock is off the server's: the JWT's iat/exp were wrong; sign again by its clock
                        log.info("%s: the server's clock is %.0f s from ours; signing the JWT by it", self.name,
                                 moved)
                        continue
                    raise self._classify(exc, what, missing) from None
                except requests.exceptions.RequestException as exc:
                    raise RetriableAPIError(self.name, f"{what}: connection failed ({type(exc).__name__})") from None
            raise AssertionError("unreachable")  # pragma: no cover

        if not retry:
            return once()
        return call_with_retry(once, tracker=self.name, stats=self.stats, policy=self.policy, what=what)

    def _classify(self, exc: GithubException, what: str, missing: str) -> Exception:
        status = exc.status
        said = str((exc.data or {}).get("message") or "")[:200] if isinstance(exc.data, dict) else ""
        if status == 401:
            return AuthError(self.name, f"{what}: GitHub refused the app's JWT (401 {said}); check that app_id "
                             f"{self.app_id} is right and that {self.tracker.private_key_env} holds that app's "
                             "current private key".replace("( ", "(").replace(" )", ")"))
        if status == 404:
            return FatalAPIError(self.name, missing)
        if status >= 500 or status == 429:
            return RetriableAPIError(self.name, f"{what}: {status} {said}".rstrip(), status=status)
        return FatalAPIError(self.name, f"{what}: {status} {said}".rstrip())
