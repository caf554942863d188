"""projects (#229): projects are core Records of kind ``project`` (``name``,
``number``, ``customer_id`` = the account; ``extra.type_id`` names an entry
of the core list ``project_type``). The API only lists them; they are made
by fixtures or the other APIs' generic records."""

from __future__ import annotations

from polycrm.core import query as q
from polycrm.core.models import Lookup, Record
from polycrm.faces.cirrus.entity import Entity, f_eq
from polycrm.faces.cirrus.handlers import paged
from polycrm.faces.cirrus.views import ID_NAME, View, attr, ref
from polycrm.faces.cirrus.schemas import define

PROJECT_KIND = "project"

define("Project", {"id": "int", "name": "str", "type": "IdName"})
PROJECT = View("Project", {"id": attr("id"), "name": attr("name"), "type": ref(Lookup, "extra.type_id", ID_NAME)})

PROJECT_ENTITY = Entity(
    label="Project", model=Record, view=PROJECT,
    scope=(q.Criterion("eq", "kind", PROJECT_KIND),), defaults={"kind": PROJECT_KIND, "active": True},
    filters={"accountid": f_eq("customer_id")},
    sorts={"name": (q.Sort("name", mode="text"),), "number": (q.Sort("number", mode="numeric_text"),)},
)

BINDINGS = {"get_project_collection": paged(PROJECT_ENTITY)}
