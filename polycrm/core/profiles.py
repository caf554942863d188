"""Profiles (business units inside a tenant) and who may use them.

A user may use the profiles they are a member of. Records carry the profile
they belong to; records written through an API without profiles (Microbizz,
Cirrus) have none, and count as records of the tenant's default profile.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select

from polycrm.core.errors import Forbidden, Invalid
from polycrm.core.models import Profile, ProfileMember, User
from polycrm.core.service import Rule, Write
from polycrm.core.workspace import Workspace


def of_user(ws: Workspace, user_id: int) -> list[Profile]:
    """The live profiles a user is a member of, default first."""
    stmt = (
        select(Profile)
        .join(ProfileMember, ProfileMember.profile_id == Profile.id)
        .where(ProfileMember.user_id == user_id, ProfileMember.deleted.is_(False), Profile.deleted.is_(False))
        .order_by(Profile.is_default.desc(), Profile.id)
    )
    return ws.scalars(stmt)


def require_access(ws: Workspace, user_id: int | None, profile_id: Any, field: str = "profile_id") -> Profile:
    """The profile, if it exists in the tenant and the user is a member.

    An unknown profile and a foreign one give the same error, so the answer
    does not reveal which profiles exist.
    """
    try:
        key = int(profile_id)
    except (TypeError, ValueError):
        raise Invalid(f"invalid value for {field}: must be an integer", field=field) from None
    profile = ws.get(Profile, key, include_deleted=False)
    if profile is None or user_id is None or not is_member(ws, profile.id, user_id):
        raise Forbidden("profile not found or not accessible", field=field)
    return profile


def is_member(ws: Workspace, profile_id: int, user_id: int) -> bool:
    stmt = select(ProfileMember.id).where(
        ProfileMember.profile_id == profile_id, ProfileMember.user_id == user_id, ProfileMember.deleted.is_(False)
    )
    return ws.count(stmt) > 0


def members(ws: Workspace, profile_id: int, *, active_only: bool = True) -> list[User]:
    """The users of a profile, by name."""
    stmt = (
        select(User)
        .join(ProfileMember, ProfileMember.user_id == User.id)
        .where(ProfileMember.profile_id == profile_id, ProfileMember.deleted.is_(False), User.deleted.is_(False))
        .order_by(User.name, User.surname, User.id)
    )
    if active_only:
        stmt = stmt.where(User.active.is_(True))
    return ws.scalars(stmt)


def require_member(ws: Workspace, profile_id: int, user_id: Any, field: str = "user_id") -> User:
    """A user who belongs to the profile (an owner of a record in it)."""
    try:
        key = int(user_id)
    except (TypeError, ValueError):
        raise Invalid(f"invalid value for {field}: must be an integer", field=field) from None
    user = ws.get(User, key, include_deleted=False)
    if user is None or not is_member(ws, profile_id, user.id):
        raise Invalid(f"user {key} is not a user of this profile", field=field)
    return user


def owned_by(model: type, profile: Profile) -> Any:
    """The SQL condition "this row belongs to the profile" for a model with ``profile_id``.

    Rows without a profile belong to the tenant's default profile.
    """
    column = model.profile_id
    if profile.is_default:
        return (column == profile.id) | column.is_(None)
    return column == profile.id


def owns(profile: Profile, row_profile_id: int | None) -> bool:
    """Python twin of :func:`owned_by` for one loaded row."""
    if row_profile_id is None:
        return bool(profile.is_default)
    return row_profile_id == profile.id


def require_own(ws: Workspace, profile: Profile, model: type, id_: Any, label: str, field: str) -> Any:
    """A live row of ``model`` that belongs to the profile, else :class:`Invalid` naming ``field``."""
    row = ws.get(model, id_, include_deleted=False)
    if row is None or not owns(profile, getattr(row, "profile_id", None)):
        raise Invalid(f"invalid value for {field}: {label} {id_} not found in this profile", field=field)
    return row


def of_the_profile(references: Mapping[str, tuple[type, str]], members: Sequence[str] = ()) -> Rule:
    """A service rule for writes made for a profile (context ``profile``): each
    given user of ``members`` is a member of it, each given reference
    (``path -> (model, label)``) names one of its live rows. Writes without a
    profile (Microbizz, Cirrus, web) are not limited."""

    def rule(write: Write) -> None:
        profile = write.context.get("profile")
        if profile is None:
            return
        for path in members:
            if write.given(path):
                require_member(write.ws, profile.id, write.values[path], path)
        for path, (model, label) in references.items():
            if write.values.get(path) is not None:
                require_own(write.ws, profile, model, write.values[path], label, path)

    return rule


def lookup_ref(ws: Workspace, profile: Profile, kind: str, id_: Any, field: str) -> int | None:
    """Validate an optional reference to an entry of a profile's list; 0/None/"" mean none."""
    from polycrm.core import lookups

    if id_ in (None, "", 0, "0"):
        return None
    try:
        key = int(id_)
    except (TypeError, ValueError):
        raise Invalid(f"invalid value for {field}: must be an integer", field=field) from None
    entry = lookups.get(ws, kind, key)
    if entry is None or entry.profile_id not in (None, profile.id):
        raise Invalid(f"invalid value for {field}: {key} is not one of this profile's entries", field=field)
    return key
