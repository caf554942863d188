"""deliveryterms (#58–#61): delivery terms = core lookup kind ``delivery_term``."""

from __future__ import annotations

from polycrm.faces.cirrus.views import View, attr
from polycrm.faces.cirrus.writers import ignored, to
from polycrm.faces.cirrus.groups._sales import lookup_group, to_flag
from polycrm.faces.cirrus.schemas import define

define("DeliveryTerm", {"id": "int", "name": "str", "default": "int", "externalkey": "str"})
VIEW = View(
    "DeliveryTerm",
    {"id": attr("id"), "name": attr("name"), "default": attr("is_default"), "externalkey": attr("externalkey")},
)

BINDINGS = lookup_group(
    ("post_deliveryterm_collection", "get_deliveryterm_collection",
     "put_deliveryterm_item", "get_deliveryterm_item"),
    "Deliveryterm",
    "delivery_term",
    VIEW,
    {
        "id": ignored(),
        "name": to("name", required=True),
        "default": to_flag("is_default"),
        "externalkey": to("externalkey"),
    },
)
