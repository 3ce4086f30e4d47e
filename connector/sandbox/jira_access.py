"""Jira Cloud's access surface beyond the REST API: the site's public tenant info (its cloud id), and the
service account whose scoped token only the API gateway (/ex/jira/{cloudId}) accepts (see server.py).
"""

from __future__ import annotations

from .jira_api import router
from .wire import Req, Resp, json_resp

CLOUD_ID = "5f1e2d3c-4b5a-4697-8887-a6b5c4d3e2f1"
SERVICE_EMAIL = "plansync-svc@serviceaccount.atlassian.com"
SCOPED_TOKEN = "sandbox-jira-scoped-token"


@router.add("GET", r"/_edge/tenant_info", "jira.tenant_info")
def tenant_info(sb, req: Req, m: dict) -> Resp:
    if req.flavour != "cloud" or "/ex/jira/" in req.base:
        return Resp(404, b"")
    return json_resp({"cloudId": CLOUD_ID})
