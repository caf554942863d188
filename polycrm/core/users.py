"""Users: :data:`SERVICE` is a user's one write path.

A new user's login name (``username``) is their e-mail, else
``name.surname``, lower-cased and cut to 90 characters, made unique within
the tenant with a number (``-2``, ``-3``, ...); deleted users keep theirs, so
it is never given out twice. A login name the writer gives must be free.
"""

from __future__ import annotations

from sqlalchemy import select

from polycrm.core.errors import Conflict
from polycrm.core.models import User
from polycrm.core.service import Service, Write
from polycrm.core.workspace import Workspace

# Room for a "-<n>" suffix within the column's 100 characters.
LOGIN_BASE_LENGTH = 90


def login_taken(ws: Workspace, username: str, *, besides: User | None = None) -> bool:
    """Whether a user of this tenant (deleted ones too) has this login name."""
    stmt = select(User.id).where(User.username == username)
    if besides is not None:
        stmt = stmt.where(User.id != besides.id)
    return ws.first(stmt) is not None


def free_login(ws: Workspace, email: str | None, name: str | None, surname: str | None) -> str:
    """The login name a new user gets: the e-mail, else name.surname, numbered if taken."""
    base = (email or f"{name or ''}.{surname or ''}").strip().lower()[:LOGIN_BASE_LENGTH] or "user"
    candidate, n = base, 1
    while login_taken(ws, candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _login_name(write: Write) -> None:
    values = write.values
    if write.given("username") and values["username"]:
        if login_taken(write.ws, values["username"], besides=write.obj):
            raise Conflict(f"username {values['username']} is taken", field="username")
    elif write.creating:
        values["username"] = free_login(write.ws, values.get("email"), values.get("name"), values.get("surname"))


SERVICE: Service[User] = Service(User, "user", rules=[_login_name])
