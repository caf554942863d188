"""sortgroups (#209–#212): sort groups (of order and quote rows) = core lookup kind ``sort_group``;
``sort`` is the lookup's sortorder."""

from __future__ import annotations

from polycrm.faces.cirrus.views import View, attr
from polycrm.faces.cirrus.writers import ignored, to
from polycrm.faces.cirrus.groups._sales import lookup_group, to_int
from polycrm.faces.cirrus.schemas import define

define("SortGroup", {"id": "int", "name": "str", "sort": "int", "externalkey": "str"})
VIEW = View(
    "SortGroup", {"id": attr("id"), "name": attr("name"), "sort": attr("sortorder"), "externalkey": attr("externalkey")}
)

BINDINGS = lookup_group(
    ("post_sortgroup_collection", "get_sortgroup_collection", "put_sortgroup_item", "get_sortgroup_item"),
    "Sortgroup",
    "sort_group",
    VIEW,
    {
        "id": ignored(),
        "name": to("name", required=True),
        "sort": to_int("sortorder", 0),
        "externalkey": to("externalkey"),
    },
)
