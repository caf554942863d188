"""leadstatus (#230–#233): lead statuses = core lookup kind ``lead_status``."""

from __future__ import annotations

from polycrm.faces.cirrus.views import View, attr
from polycrm.faces.cirrus.writers import ignored, to
from polycrm.faces.cirrus.groups._sales import lookup_group, to_int
from polycrm.faces.cirrus.schemas import define

define("LeadStatus", {"id": "int", "name": "str", "sortorder": "int"})
VIEW = View("LeadStatus", {"id": attr("id"), "name": attr("name"), "sortorder": attr("sortorder")})

BINDINGS = lookup_group(
    ("post_leadstatus_collection", "get_leadstatus_collection", "put_leadstatus_item", "get_leadstatus_item"),
    "Leadstatus",
    "lead_status",
    VIEW,
    {"id": ignored(), "name": to("name", required=True), "sortorder": to_int("sortorder", 0)},
)
