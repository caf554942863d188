"""The Auth module: Login and Logout, on credentials rather than in a workspace."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from polycrm.core import auth, signin, throttle
from polycrm.core import profiles as core_profiles
from polycrm.core.models import User
from polycrm.faces.centia.modules.profiles import profile_out, user_out
from polycrm.faces.centia.wire import AUTH_STATUS, ApiError, AuthError, out_datetime
from polycrm.sandbox import journal

TOKEN_TTL = dt.timedelta(seconds=int(os.environ.get("POLYCRM_CENTIA_TOKEN_TTL", str(24 * 3600))))


def login(rt: Any, args: dict[str, Any], token: str | None, address: str | None = None) -> dict[str, Any]:
    try:
        principal = signin.sign_in_by_email(rt.db, args["email"], args["password"], address=address)
    except throttle.Throttled as exc:
        journal.refused("centia", signin.claimed_by_email(rt.db, args["email"]))
        raise ApiError(exc.message, 429, {"Retry-After": str(exc.retry_after)}) from None
    journal.note("centia", principal)
    if principal is None:
        journal.refused("centia", signin.claimed_by_email(rt.db, args["email"]))
        raise AuthError("invalid credentials", status=AUTH_STATUS)
    token, expires_at = auth.issue_token(rt.db, principal, auth.CENTIA_TOKEN, TOKEN_TTL)
    with rt.workspace(principal, write=False) as ws:
        user = ws.get(User, principal.user_id)
        out = {**user_out(user), "is_admin": bool(user.is_admin)}
        out["profiles"] = [profile_out(p) for p in core_profiles.of_user(ws, user.id)]
    return {"token": token, "token_type": "Bearer", "expires_at": out_datetime(expires_at), "user": out}


def logout(rt: Any, args: dict[str, Any], token: str | None, address: str | None = None) -> dict[str, Any]:
    return {"revoked": auth.revoke_token(rt.db, auth.CENTIA_TOKEN, token)}
