"""A GitHub App in the sandbox: the app's JWT endpoints (GET /app, installation lookup, minting installation
tokens) with the JWT verified as GitHub does (RS256 against the app's public key, `iss` = app id, `exp`
at most 10 minutes after now, `iat` not in the future), and installation tokens that expire by the
sandbox's clock. `token_lifetime` (default GitHub's hour) and the sandbox's `tick_seconds` (its clock
advances that much per API request) let a test make a token expire in the middle of a run without sleeping.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import jwt

from .github_api import REPO, gh_error, router
from .github_render import gh_time, user_obj
from .wire import Req, Resp, json_resp

APP_ID = 90210
APP_SLUG = "plansync-sandbox"
PERMISSIONS = {"issues": "write", "metadata": "read"}
JWT_ROUTES = {"github.app", "github.app_token", "github.repo_installation", "github.org_installation",
              "github.app_installations"}
MAX_JWT_SECONDS = 600  # GitHub: exp no more than 10 minutes into the future
SKEW = 60  # tolerated clock drift for iat


@lru_cache(maxsize=1)
def _key_pair() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def private_key_pem() -> str:
    """The sandbox app's private key (PEM), what a user would put in the variable private_key_env names."""
    return _key_pair()[0]


def write_private_key() -> str:
    """The key in a file only this user can read (for `plansync sandbox serve`, whose process made it)."""
    import os
    import tempfile

    fd, path = tempfile.mkstemp(prefix="plansync-sandbox-app-", suffix=".pem")
    with os.fdopen(fd, "w") as out:
        out.write(private_key_pem())
    return path


@dataclass
class AppState:
    token_lifetime: float = 3600.0  # seconds of sandbox time an installation token lives
    uninstalled: set[str] = field(default_factory=set)  # owners or owner/repo the app is not installed on
    permissions: dict = field(default_factory=lambda: dict(PERMISSIONS))
    tokens: dict[str, tuple[int, str, float]] = field(default_factory=dict)  # token -> (installation, owner, expiry)
    minted: list[tuple[int, float]] = field(default_factory=list)  # (installation, sandbox time minted)
    refused: list[str] = field(default_factory=list)  # why JWTs or tokens were refused
    lock: threading.Lock = field(default_factory=threading.Lock)


def app_state(sb) -> AppState:
    state = getattr(sb, "_github_app", None)
    if state is None:
        state = sb._github_app = AppState()
    return state


def installation_id(sb, owner: str) -> int:
    owners = sorted({full.split("/")[0].lower() for full in sb.state.repos})
    return 7000 + (owners.index(owner.lower()) if owner.lower() in owners else len(owners))


def installed(sb, owner: str, repo: str | None = None) -> bool:
    gone = app_state(sb).uninstalled
    owners = {full.split("/")[0].lower() for full in sb.state.repos}
    return owner.lower() in owners and owner.lower() not in gone and (
        repo is None or f"{owner}/{repo}".lower() not in gone)


def token_owner(sb, auth: str) -> tuple[int, str] | None:
    """(installation, owner) of a live installation token in an Authorization header, else None."""
    scheme, _, cred = auth.partition(" ")
    if scheme.lower() not in ("token", "bearer"):
        return None
    state = app_state(sb)
    with state.lock:
        found = state.tokens.get(cred)
    if found is None:
        return None
    if found[2] <= sb.clock.ts():
        state.refused.append(f"expired installation token of installation {found[0]}")
        return None
    return found[0], found[1]


def token_ok(sb, auth: str, path: str) -> bool:
    """An installation token may act on the repositories of its owner."""
    found = token_owner(sb, auth)
    if found is None:
        return False
    parts = path.strip("/").split("/")
    if len(parts) >= 3 and parts[0] == "repos":
        return parts[1].lower() == found[1] and installed(sb, parts[1], parts[2])
    return True


def budget_key(sb, auth: str) -> str:
    """Rate limits count per installation, not per token: a renewed token keeps spending the same budget."""
    found = token_owner(sb, auth)
    return f"token installation-{found[0]}" if found else auth


def _jwt_problem(sb, req: Req) -> str | None:
    scheme, _, cred = req.raw.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or cred.count(".") != 2:
        return "A JSON web token could not be decoded"
    try:
        claims = jwt.decode(cred, _key_pair()[1], algorithms=["RS256"],
                            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                                     "require": ["iat", "exp", "iss"]})
    except jwt.PyJWTError:
        return "A JSON web token could not be decoded"
    now = sb.clock.ts()
    if str(claims["iss"]) != str(APP_ID):
        return f"'Issuer' claim ('iss') must be an Integer; no app {claims['iss']!r}"
    if not isinstance(claims["exp"], int) or claims["exp"] <= now:
        return "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
    if claims["exp"] > now + MAX_JWT_SECONDS + SKEW:
        return "'Expiration time' claim ('exp') is too far in the future"
    if not isinstance(claims["iat"], int) or claims["iat"] > now + SKEW:
        return "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
    return None


def _refuse(sb, problem: str) -> Resp:
    app_state(sb).refused.append(problem)
    return gh_error(401, problem, "https://docs.github.com/rest")


def _installation_obj(sb, req: Req, owner: str) -> dict:
    iid = installation_id(sb, owner)
    account = user_obj(sb, 1, req.base) | {"login": owner, "type": "Organization"}
    return {"id": iid, "account": account, "repository_selection": "all",
            "access_tokens_url": f"{req.base}/app/installations/{iid}/access_tokens",
            "repositories_url": f"{req.base}/installation/repositories",
            "html_url": f"https://github.com/organizations/{owner}/settings/installations/{iid}",
            "app_id": APP_ID, "client_id": "Iv1.sandbox", "target_id": 4242, "target_type": "Organization",
            "permissions": dict(app_state(sb).permissions), "events": ["issues"],
            "created_at": gh_time(sb.clock.ts() - 86400 * 30), "updated_at": gh_time(sb.clock.ts() - 86400),
            "single_file_name": None, "app_slug": APP_SLUG, "suspended_by": None, "suspended_at": None}


@router.add("GET", r"/app", "github.app")
def app(sb, req: Req, m: dict) -> Resp:
    problem = _jwt_problem(sb, req)
    if problem:
        return _refuse(sb, problem)
    return json_resp({"id": APP_ID, "slug": APP_SLUG, "node_id": "A_kwDOsandbox", "client_id": "Iv1.sandbox",
                      "owner": user_obj(sb, 1, req.base), "name": "plansync (sandbox)", "description": "",
                      "external_url": "https://example.com/plansync", "html_url": f"https://github.com/apps/{APP_SLUG}",
                      "created_at": gh_time(sb.clock.ts() - 86400 * 60), "updated_at": gh_time(sb.clock.ts() - 86400),
                      "permissions": dict(app_state(sb).permissions), "events": ["issues"], "installations_count": 1})


@router.add("GET", r"/app/installations", "github.app_installations")
def app_installations(sb, req: Req, m: dict) -> Resp:
    problem = _jwt_problem(sb, req)
    if problem:
        return _refuse(sb, problem)
    owners = sorted({full.split("/")[0] for full in sb.state.repos if installed(sb, full.split("/")[0])})
    return json_resp([_installation_obj(sb, req, owner) for owner in owners])


@router.add("GET", REPO + r"/installation", "github.repo_installation")
def repo_installation(sb, req: Req, m: dict) -> Resp:
    problem = _jwt_problem(sb, req)
    if problem:
        return _refuse(sb, problem)
    if f"{m['owner']}/{m['repo']}" not in sb.state.repos or not installed(sb, m["owner"], m["repo"]):
        return gh_error(404, "Not Found", "https://docs.github.com/rest/apps/apps#get-a-repository-installation-for-the-authenticated-app")
    return json_resp(_installation_obj(sb, req, m["owner"]))


@router.add("GET", r"/orgs/(?P<org>[^/]+)/installation", "github.org_installation")
def org_installation(sb, req: Req, m: dict) -> Resp:
    problem = _jwt_problem(sb, req)
    if problem:
        return _refuse(sb, problem)
    if not installed(sb, m["org"]):
        return gh_error(404, "Not Found", "https://docs.github.com/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app")
    return json_resp(_installation_obj(sb, req, m["org"]))


@router.add("POST", r"/app/installations/(?P<iid>\d+)/access_tokens", "github.app_token")
def access_token(sb, req: Req, m: dict) -> Resp:
    problem = _jwt_problem(sb, req)
    if problem:
        return _refuse(sb, problem)
    owners = sorted({full.split("/")[0].lower() for full in sb.state.repos})
    owner = next((o for o in owners if installation_id(sb, o) == int(m["iid"]) and installed(sb, o)), None)
    if owner is None:
        return gh_error(404, "Not Found", "https://docs.github.com/rest/apps/apps#create-an-installation-access-token-for-an-app")
    state = app_state(sb)
    token = "ghs_" + secrets.token_hex(18)
    expires = sb.clock.ts() + state.token_lifetime
    with state.lock:
        state.tokens[token] = (int(m["iid"]), owner, expires)
        state.minted.append((int(m["iid"]), sb.clock.ts()))
    return json_resp({"token": token, "expires_at": gh_time(expires), "permissions": dict(state.permissions),
                      "repository_selection": "all"}, 201)
