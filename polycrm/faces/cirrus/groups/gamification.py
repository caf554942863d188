"""gamification (#76–#82): challenges between users and a user's statistics.

The rules (lifecycle, scores, settling, statistics) are in
:mod:`polycrm.core.challenges`. The challenger is the calling user.
"""

from __future__ import annotations

from typing import Any

from polycrm.core import challenges
from polycrm.core import query as q
from polycrm.core.models import Lookup, Record, User
from polycrm.faces.cirrus import wire
from polycrm.faces.cirrus.entity import criteria, f_eq, lookup_entity
from polycrm.faces.cirrus.handlers import Call, custom, listing
from polycrm.faces.cirrus.views import ID_NAME, USER_REF, Ctx, View, attr, render
from polycrm.faces.cirrus.groups._records import page_of, record_entity
from polycrm.faces.cirrus.schemas import define

define("NewCahllengeUser", {"id": "int", "name": "str", "surname": "str", "title": "str"})
define("ChallengeUser", {"id": "int", "accepted": "datetime", "challengeid": "int", "owner": "bool", "score": "int",
                         "user": "UserRef"})
define("Challenge", {
    "id": "int", "active": "int", "challenged": "ChallengeUser", "challenger": "ChallengeUser", "created": "datetime",
    "daysremaining": "int", "startdate": "datetime", "stopdate": "datetime", "type": "IdName", "winner": "UserRef",
})
define("ChallengeAnswer", {"id": "int", "status": "str"})
define("GamificationAchievements", {"day": "int", "week": "int", "month": "int"})
define("GamificationStats", {"achievements": "GamificationAchievements", "category": "str", "heartbeat": "int",
                             "level": "int", "score": "int"})


def _user(ctx: Ctx, id_: Any) -> Any:
    user = ctx.loader.get(User, id_)
    return render(ctx, USER_REF, user) if user is not None and not user.deleted else None


def participant(owner: bool):
    """The challenger (owner) or the challenged side; its ``id`` is the user's id."""

    def read(ctx: Ctx, challenge: Record) -> dict:
        extra = challenge.extra or {}
        user_id = challenge.user_id if owner else extra.get("challenged_id")
        return {
            "id": user_id, "challengeid": challenge.id, "owner": owner,
            "accepted": wire.coerce("datetime", challenge.created_at if owner else extra.get("accepted")),
            "score": challenges.score(ctx.ws, challenge, user_id), "user": _user(ctx, user_id),
        }

    return read


CHALLENGE = View("Challenge", {
    "id": attr("id"), "active": attr("active"), "challenged": participant(False), "challenger": participant(True),
    "created": attr("created_at"), "daysremaining": lambda ctx, c: challenges.days_remaining(c),
    "startdate": attr("extra.startdate"), "stopdate": attr("extra.stopdate"),
    "type": lambda ctx, c: render(ctx, ID_NAME, ctx.loader.get(Lookup, (c.extra or {}).get("type_id"))),
    "winner": lambda ctx, c: _user(ctx, (c.extra or {}).get("winner_id")),
})
ANSWER = View("ChallengeAnswer", {"id": attr("id"), "status": attr("extra.status")})
STATS = View("GamificationStats", {
    "achievements": lambda ctx, s: s["achievements"],
    **{n: (lambda key: lambda ctx, s: s[key])(n) for n in ("category", "heartbeat", "level", "score")},
})


def _day(value: Any) -> str:
    return value.isoformat()[:10]


def challenge_filters(query: dict) -> list[q.Criterion]:
    found: list[q.Criterion] = []
    if query.get("datespan_start") is not None:
        found.append(q.Criterion("gte", "extra.stopdate", _day(query["datespan_start"])))
    if query.get("datespan_end") is not None:
        found.append(q.Criterion("lte", "extra.startdate", _day(query["datespan_end"]) + "T23:59:59"))
    return found


CHALLENGE_ENTITY = record_entity(
    "Challenge", challenges.KIND, CHALLENGE,
    filters={"challengerid": f_eq("user_id"), "challengedid": f_eq("extra.challenged_id", "int"),
             "typeid": f_eq("extra.type_id", "int"), "winnerid": f_eq("extra.winner_id", "int")},
    combined=challenge_filters, combined_params=frozenset({"datespan_start", "datespan_end", "status"}),
    sorts={"active": (q.Sort("active"),), "type": (q.Sort("extra.type_id"),), "winner": (q.Sort("extra.winner_id"),),
           "challenger": (q.Sort("user_id"),), "challenged": (q.Sort("extra.challenged_id"),)},
)
TYPES = lookup_entity("Challenge type", "challenge_type", ID_NAME)


def create(call: Call) -> dict:
    body = call.body or {}
    start = wire.parse_datetime(body["startdate"])
    type_id = (body.get("type") or {}).get("id")
    challenge = challenges.create(call.ws, call.ctx.user_id, body["challenged"]["id"], start, type_id)
    call.ws.flush()
    return render(call.ctx, CHALLENGE, challenge)


def page(call: Call) -> dict:
    challenges.settle_due(call.ws)
    crit = criteria(CHALLENGE_ENTITY, call.query)
    crit += challenges.status_criteria(call.query.get("status") or "pending", call.ctx.user_id)
    key, _, direction = (call.query.get("sorting") or "active_desc").rpartition("_")
    sort = [q.Sort(s.path, direction == "desc") for s in CHALLENGE_ENTITY.sorts[key]]
    return page_of(call, Record, crit, CHALLENGE, sort)


def one(call: Call) -> dict:
    challenge = challenges.find(call.ws, call.path["id"])
    challenges.settle(call.ws, [challenge])
    return render(call.ctx, CHALLENGE, challenge)


def answer(accepting: bool):
    def handle(call: Call) -> dict:
        challenge = challenges.find(call.ws, call.path["id"])
        (challenges.accept if accepting else challenges.decline)(call.ws, challenge)
        return render(call.ctx, ANSWER, challenge)

    return handle


def user_stats(call: Call) -> dict:
    return render(call.ctx, STATS, challenges.stats(call.ws, call.path["id"]))


BINDINGS = {
    "post_gamification_challenge_collection": custom(create, "object", CHALLENGE),
    # Reading challenges or statistics settles challenges whose stop date has passed: it writes.
    "get_gamification_challenge_collection": custom(page, "page", CHALLENGE, CHALLENGE_ENTITY, writes=True),
    "get_gamification_challenge_type_collection": listing(TYPES),
    "get_gamification_challenge_user_item": custom(user_stats, "object", STATS, writes=True),
    "get_gamification_challenge_item": custom(one, "object", CHALLENGE, writes=True),
    "put_gamification_challenge_accept": custom(answer(True), "object", ANSWER),
    "put_gamification_challenge_decline": custom(answer(False), "object", ANSWER),
}
