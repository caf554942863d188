"""settings (#188–#189): the tenant's settings (:mod:`polycrm.core.tenant_settings`).

PUT is a deep partial update: only the fields sent change, nested objects
included; lists (headlines, signature fields) are replaced as a whole.
"""

from __future__ import annotations

from polycrm.core import tenant_settings
from polycrm.faces.cirrus.handlers import Call, custom
from polycrm.faces.cirrus.views import View
from polycrm.faces.cirrus.groups._records import shaped
from polycrm.faces.cirrus.schemas import MODELS, define

define("PortalSettings", {n: "str" for n in (
    "name", "street", "zip", "city", "country", "phone", "fax", "email", "plusgiro", "bankgiro", "vatnumber",
    "vatregnumber", "url", "iban", "swift", "seat")})
define("SalesSettings", {"defaultinterest": "int"})
define("FieldsalesActivityTypes", {n: "int" for n in (
    "assigned", "knock", "note", "return", "notavailable", "rejected", "erpaccepted", "erpdeclined")})
define("FieldsalesNumberPorting", {n: "int" for n in ("group", "name", "number", "phone")})
define("FieldsalesHeadline", {"title": "str", "body": "text"})
define("FieldsalesSettings", {
    "activitytypes": "FieldsalesActivityTypes", "numberporting": "FieldsalesNumberPorting", "filter": "int",
    "headlines": "[FieldsalesHeadline]", "erpurl": "str", "signaturefields": "[int]", "terms": "text",
})
define("ConsentEmail", {"fromemail": "str", "fromname": "str", "user": "str", "port": "str", "server": "str",
                        "body": "text", "password": "str", "auth": "int", "userid": "int", "type": "int"})
define("ConsentSettings", {"logofileid": "int", "email": "ConsentEmail"})
define("Settings", {"currency": "str", "portal": "PortalSettings", "sales": "SalesSettings",
                    "fieldsales": "FieldsalesSettings", "consent": "ConsentSettings"})

# Rendering is by shape (the data is plain JSON); the View documents the model for swagger.json.
SETTINGS = View("Settings", {name: (lambda key: lambda ctx, s: s.get(key))(name) for name in MODELS["Settings"]})


def read(call: Call) -> dict:
    return shaped("Settings", tenant_settings.get(call.ws))


def write(call: Call) -> dict:
    return shaped("Settings", tenant_settings.update(call.ws, call.body or {}))


BINDINGS = {
    "put_settings": custom(write, "object", SETTINGS),
    "get_settings": custom(read, "object", SETTINGS),
}
