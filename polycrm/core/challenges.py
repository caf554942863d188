"""Gamification: challenges between two users, and a user's score.

A challenge is a :class:`Record` of kind ``challenge``: ``user_id`` is the
challenger; ``extra`` holds ``challenged_id``, ``type_id`` (lookup kind
``challenge_type``), ``startdate``/``stopdate`` (ISO, naive UTC; a challenge
runs :data:`DURATION`), ``status`` and, once accepted, ``accepted``.

Lifecycle: ``pending`` (sent) -> ``ongoing`` (accepted) or ``declined`` (its
stop date becomes the moment it was declined). A pending or ongoing
challenge whose stop date has passed is settled on the next read: the scores
are frozen, the higher one wins (a tie has no winner), status ``closed``.

A user's score in a challenge is the number of their activities that start
within the challenge's span, of the activity type whose code the challenge
type names in ``extra.activity_code`` (any type when it names none).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from polycrm.core import lookups
from polycrm.core import query as q
from polycrm.core.errors import Conflict, NotFound
from polycrm.core.models import Activity, Lookup, Record, User
from polycrm.core.workspace import Workspace

KIND = "challenge"
DURATION = dt.timedelta(days=7)
PENDING, ONGOING, DECLINED, CLOSED = "pending", "ongoing", "declined", "closed"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def create(ws: Workspace, challenger_id: int, challenged_id: int, startdate: dt.datetime,
           type_id: int | None = None) -> Record:
    if ws.get(User, challenged_id, include_deleted=False) is None:
        raise NotFound(f"User {challenged_id} not found", field="challenged")
    if type_id is None:
        default = lookups.default(ws, "challenge_type")
        type_id = default.id if default else None
    elif lookups.get(ws, "challenge_type", type_id) is None:
        raise NotFound(f"Challenge type {type_id} not found", field="type")
    return ws.create(Record, {"kind": KIND, "user_id": challenger_id, "active": True, "extra": {
        "challenged_id": challenged_id, "type_id": type_id, "status": PENDING,
        "startdate": startdate.isoformat(), "stopdate": (startdate + DURATION).isoformat()}})


def find(ws: Workspace, challenge_id: int) -> Record:
    found = ws.get(Record, challenge_id, include_deleted=False)
    if found is None or found.kind != KIND:
        raise NotFound(f"Challenge {challenge_id} not found")
    return found


def _answer(ws: Workspace, challenge: Record, values: dict[str, Any]) -> Record:
    settle(ws, [challenge])
    status = (challenge.extra or {}).get("status")
    if status != PENDING:
        raise Conflict(f"Challenge {challenge.id} is {status}, not pending")
    ws.update(challenge, values)
    return challenge


def accept(ws: Workspace, challenge: Record) -> Record:
    return _answer(ws, challenge, {"extra.status": ONGOING, "extra.accepted": now().isoformat()})


def decline(ws: Workspace, challenge: Record) -> Record:
    return _answer(ws, challenge, {"extra.status": DECLINED, "extra.stopdate": now().isoformat(), "active": False})


def score(ws: Workspace, challenge: Record, user_id: int | None) -> int:
    extra = challenge.extra or {}
    if "scores" in extra:
        return int(extra["scores"].get(str(user_id), 0))
    if user_id is None:
        return 0
    start, stop = (dt.datetime.fromisoformat(extra[k]) for k in ("startdate", "stopdate"))
    stmt = select(Activity).where(Activity.deleted.is_(False), Activity.user_id == user_id,
                                  Activity.start >= start, Activity.start < stop)
    kind = ws.get(Lookup, extra.get("type_id"))
    code = (kind.extra or {}).get("activity_code") if kind is not None else None
    if code:
        activity_type = lookups.by_code(ws, "activity_type", code)
        stmt = stmt.where(Activity.type_id == (activity_type.id if activity_type else -1))
    return ws.count(stmt)


def settle(ws: Workspace, challenges: list[Record]) -> None:
    """Close the pending/ongoing challenges whose stop date has passed."""
    moment = now().isoformat()
    for challenge in challenges:
        extra = challenge.extra or {}
        if extra.get("status") not in (PENDING, ONGOING) or extra.get("stopdate", moment) > moment:
            continue
        users = [challenge.user_id, extra.get("challenged_id")]
        scores = {str(u): score(ws, challenge, u) for u in users} if extra["status"] == ONGOING else {}
        winner = loser = None
        if scores and scores[str(users[0])] != scores[str(users[1])]:
            winner, loser = sorted(users, key=lambda u: -scores[str(u)])
        ws.update(challenge, {"extra.status": CLOSED, "extra.scores": scores, "extra.winner_id": winner,
                              "extra.loser_id": loser, "active": False})


def settle_due(ws: Workspace) -> None:
    due = q.every(ws, Record, [q.Criterion("eq", "kind", KIND), q.Criterion("active", "active", 1),
                               q.Criterion("lte", "extra.stopdate", now().isoformat())])
    settle(ws, due)


def status_criteria(status: str, user_id: int | None) -> list[q.Criterion]:
    """Challenges in a state, seen by ``user_id`` (won/lost/unanswered are relative to that user)."""
    if status == "all":
        return []
    if status in ("pending", "unanswered"):
        found = [q.Criterion("eq", "extra.status", PENDING)]
        if status == "unanswered":
            found.append(q.Criterion("eq", "extra.challenged_id", user_id, "int"))
        return found
    if status == "ongoing":
        return [q.Criterion("eq", "extra.status", ONGOING)]
    if status == "closed":
        return [q.Criterion("active", "active", 0)]
    if status == "won":
        return [q.Criterion("eq", "extra.status", CLOSED), q.Criterion("eq", "extra.winner_id", user_id, "int")]
    return [q.Criterion("eq", "extra.status", CLOSED), q.Criterion("eq", "extra.loser_id", user_id, "int")]


def days_remaining(challenge: Record) -> int:
    extra = challenge.extra or {}
    if extra.get("status") not in (PENDING, ONGOING):
        return 0
    left = dt.datetime.fromisoformat(extra["stopdate"]) - now()
    return max(0, left.days + (1 if left.seconds else 0))


# -- a user's statistics ---------------------------------------------------------------------
CATEGORIES = ((1, "Rookie"), (3, "Bronze"), (6, "Silver"), (10, "Gold"))
POINTS_PER_WIN = 10


def stats(ws: Workspace, user_id: int) -> dict[str, Any]:
    """Activity counts of the current day/week/month, a score, a level and a category.

    score = the user's activities this month + 10 per challenge won;
    level = score // 25 + 1; heartbeat = activities in the last 7 days.
    Challenges past their stop date are settled first, so their wins count.
    """
    if ws.get(User, user_id, include_deleted=False) is None:
        raise NotFound(f"User {user_id} not found")
    settle_due(ws)
    today = now().date()
    starts = {"day": today, "week": today - dt.timedelta(days=today.weekday()), "month": today.replace(day=1)}

    def count_since(day: dt.date) -> int:
        return ws.count(select(Activity).where(Activity.deleted.is_(False), Activity.user_id == user_id,
                                               Activity.start >= dt.datetime.combine(day, dt.time())))

    achievements = {name: count_since(day) for name, day in starts.items()}
    wins = len(q.every(ws, Record, [q.Criterion("eq", "kind", KIND), q.Criterion("eq", "extra.status", CLOSED),
                                    q.Criterion("eq", "extra.winner_id", user_id, "int")]))
    total = achievements["month"] + POINTS_PER_WIN * wins
    level = total // 25 + 1
    category = [name for minimum, name in CATEGORIES if level >= minimum][-1]
    return {"achievements": achievements, "category": category, "heartbeat": count_since(today - dt.timedelta(days=6)),
            "level": level, "score": total}
