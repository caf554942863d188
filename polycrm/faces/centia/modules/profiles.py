"""The Profiles module: the caller's profiles, a profile's users, countries and states
(its GetStages is a lookup list, :mod:`.catalogs`)."""

from __future__ import annotations

from typing import Any

from polycrm.core import geo
from polycrm.core import profiles as core_profiles
from polycrm.core.models import Profile, User
from polycrm.faces.centia.modules._common import Call
from polycrm.faces.centia.wire import invalid


def user_out(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "name": user.name,
        "surname": user.surname,
        "email": user.email,
        "username": user.username,
        "title": user.title,
        "phone": user.phone,
        "cellphone": user.cellphone,
        "active": bool(user.active),
    }


def profile_out(profile: Profile) -> dict[str, Any]:
    return {"id": profile.id, "name": profile.name, "currency": profile.currency, "is_default": bool(profile.is_default)}


def get_profiles(call: Call) -> dict[str, Any]:
    return {"profiles": [profile_out(p) for p in core_profiles.of_user(call.ws, call.principal.user_id)]}


def get_users(call: Call) -> dict[str, Any]:
    return {"users": [user_out(u) for u in core_profiles.members(call.ws, call.profile.id)]}


def get_countries(call: Call) -> dict[str, Any]:
    return {"countries": [{"code": c["code"], "name": c["name"]} for c in geo.countries()]}


def get_states(call: Call) -> dict[str, Any]:
    code = call.args["country"].strip().upper()
    if geo.country(code) is None:
        raise invalid("country", f"unknown country code {call.args['country']!r}")
    return {"country": code, "states": geo.states(code)}
