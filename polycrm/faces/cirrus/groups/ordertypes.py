"""ordertypes (#108–#111): order types = core lookup kind ``order_type``."""

from __future__ import annotations

from polycrm.faces.cirrus.views import View, attr
from polycrm.faces.cirrus.writers import ignored, to
from polycrm.faces.cirrus.groups._sales import lookup_group, to_flag, to_int
from polycrm.faces.cirrus.schemas import define

define("OrderType", {"id": "int", "default": "int", "name": "str", "sortorder": "int"})
VIEW = View(
    "OrderType", {"id": attr("id"), "default": attr("is_default"), "name": attr("name"), "sortorder": attr("sortorder")}
)

BINDINGS = lookup_group(
    ("post_ordertype_collection", "get_ordertype_collection", "put_ordertype_item", "get_ordertype_item"),
    "Ordertype",
    "order_type",
    VIEW,
    {
        "id": ignored(),
        "default": to_flag("is_default"),
        "name": to("name", required=True),
        "sortorder": to_int("sortorder", 0),
    },
)
