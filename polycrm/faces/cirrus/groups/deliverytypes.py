"""deliverytypes (#62–#65): delivery types = core lookup kind ``delivery_type``."""

from __future__ import annotations

from polycrm.faces.cirrus.views import View, attr
from polycrm.faces.cirrus.writers import ignored, to
from polycrm.faces.cirrus.groups._sales import lookup_group, to_flag
from polycrm.faces.cirrus.schemas import define

define("DeliveryType", {"id": "int", "name": "str", "default": "int"})
VIEW = View("DeliveryType", {"id": attr("id"), "name": attr("name"), "default": attr("is_default")})

BINDINGS = lookup_group(
    ("post_deliverytype_collection", "get_deliverytype_collection",
     "put_deliverytype_item", "get_deliverytype_item"),
    "Deliverytype",
    "delivery_type",
    VIEW,
    {"id": ignored(), "name": to("name", required=True), "default": to_flag("is_default")},
)
