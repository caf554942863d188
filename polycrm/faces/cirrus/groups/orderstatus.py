"""orderstatus (#151–#154): order statuses = core lookup kind ``order_status``; ``step`` is ``extra.step``."""

from __future__ import annotations

from polycrm.faces.cirrus.entity import f_eq
from polycrm.faces.cirrus.views import View, attr
from polycrm.faces.cirrus.writers import ignored, to
from polycrm.faces.cirrus.groups._sales import lookup_group, to_flag, to_int
from polycrm.faces.cirrus.schemas import define

define("OrderStatus", {"id": "int", "default": "int", "name": "str", "step": "int"})
VIEW = View(
    "OrderStatus", {"id": attr("id"), "default": attr("is_default"), "name": attr("name"), "step": attr("extra.step")}
)

BINDINGS = lookup_group(
    ("post_orderstatus_collection", "get_orderstatus_collection", "put_orderstatus_item", "get_orderstatus_item"),
    "Orderstatus",
    "order_status",
    VIEW,
    {
        "id": ignored(),
        "default": to_flag("is_default"),
        "name": to("name", required=True),
        "step": to_int("extra.step"),
    },
    filters={"step": f_eq("extra.step", "int")},
)
