"""paymentterms (#112–#115): payment terms = core lookup kind ``payment_term``; ``days`` is ``extra.days``."""

from __future__ import annotations

from polycrm.core import query as q
from polycrm.faces.cirrus.entity import f_eq
from polycrm.faces.cirrus.views import View, attr
from polycrm.faces.cirrus.writers import ignored, to
from polycrm.faces.cirrus.groups._sales import lookup_group, to_flag, to_int
from polycrm.faces.cirrus.schemas import define

define("PaymentTerm", {"id": "int", "name": "str", "default": "int", "externalkey": "str", "days": "int"})
VIEW = View(
    "PaymentTerm",
    {
        "id": attr("id"),
        "name": attr("name"),
        "default": attr("is_default"),
        "externalkey": attr("externalkey"),
        "days": attr("extra.days"),
    },
)

BINDINGS = lookup_group(
    ("post_paymentterm_collection", "get_paymentterm_collection", "put_paymentterm_item", "get_paymentterm_item"),
    "Paymentterm",
    "payment_term",
    VIEW,
    {
        "id": ignored(),
        "name": to("name", required=True),
        "default": to_flag("is_default"),
        "externalkey": to("externalkey"),
        "days": to_int("extra.days"),
    },
    filters={"days": f_eq("extra.days", "int")},
    sorts={"days": (q.Sort("extra.days", mode="numeric_text"),)},
)
