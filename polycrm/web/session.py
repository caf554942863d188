"""The signed session cookie and the CSRF token it carries.

The cookie holds only ids and the CSRF token, signed (not encrypted) with a
per-installation secret; it is HttpOnly, SameSite=Lax and Secure when the
request came in over HTTPS. Every state-changing form posts the CSRF token
back, and it must match the one in the cookie.
"""

from __future__ import annotations

import hmac
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "polycrm_session"
MAX_AGE = 12 * 3600  # seconds a session stays valid without signing in again
CSRF_FIELD = "csrf_token"


def load_secret(data_dir: Path) -> str:
    """POLYCRM_SECRET_KEY, or a random key kept in the data folder.

    Keeping a generated key on disk means sessions survive a restart and all
    workers of one installation share it.
    """
    configured = os.environ.get("POLYCRM_SECRET_KEY")
    if configured:
        return configured
    path = Path(data_dir) / "web-secret-key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Write a private temp file, then link it into place: a reader never
        # sees a half-written key, and of racing workers the first one wins.
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(tmp)
    return path.read_text().strip()


class Session(dict):
    """The decoded cookie; remembers whether it needs writing back."""

    modified = False

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        self.modified = True

    def pop(self, key: str, default: Any = None) -> Any:
        if key in self:
            self.modified = True
        return super().pop(key, default)

    def clear(self) -> None:
        super().clear()
        self.modified = True

    @property
    def csrf(self) -> str:
        if not self.get("csrf"):
            self["csrf"] = secrets.token_urlsafe(32)
        return self["csrf"]

    def csrf_ok(self, submitted: Any) -> bool:
        expected = self.get("csrf")
        return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


class SessionCodec:
    def __init__(self, secret: str):
        self._serializer = URLSafeTimedSerializer(secret, salt="polycrm.web.session")

    def load(self, request: Request) -> Session:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                data = self._serializer.loads(raw, max_age=MAX_AGE)
            except BadSignature:
                data = None
            if isinstance(data, dict):
                return Session(data)
        return Session()

    def save(self, request: Request, response: Response, session: Session) -> None:
        if not session.modified:
            return
        response.set_cookie(
            COOKIE,
            self._serializer.dumps(dict(session)),
            max_age=MAX_AGE,
            path="/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
