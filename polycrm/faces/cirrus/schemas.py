"""The wire models of Cirrus 2 (Flask-RESTX "models"), fields in documented order.

Each model is an ordered ``{field: type}`` (types: see
:mod:`polycrm.faces.cirrus.wire`). Field names keep the vendor's spelling,
typos included (``commision``, ``stockbalancewarningtreshold``). The same
definitions give the response schemas in ``swagger.json`` and the nested
request schemas; :data:`ALIASES` maps the model names the operation table
uses for request fields onto these.

To add a group: add its models here (or in the group module, registering
them with :func:`define`).
"""

from __future__ import annotations

MODELS: dict[str, dict[str, str]] = {}
# Models that are values of their own in a request body (a contact attempt, a
# setting), not references to another record: their ``id`` is not required.
VALUE_MODELS: set[str] = set()


def define(name: str, fields: dict[str, str], *, value: bool = False) -> str:
    MODELS[name] = fields
    if value:
        VALUE_MODELS.add(name)
    return name


define("IdObject", {"id": "int"})
define("IdName", {"id": "int", "name": "str"})
define("UserRef", {"id": "int", "name": "str", "surname": "str", "title": "str", "email": "str", "phone": "str", "cellphone": "str"})
define("Coordinates", {"latitude": "coord", "longitude": "coord", "distance": "coord"})
define("AccountRef", {
    "id": "int", "name": "str", "alt_name": "str", "number": "str", "email": "str", "phone": "str",
    "cellphone": "str", "coordinates": "Coordinates",
})
define("ContactRef", {
    "id": "int", "name": "str", "surname": "str", "title": "str", "email": "str", "officephone": "str",
    "cellphone": "str", "number": "str",
})
define("PrimaryContact", {"id": "int", "name": "str", "surname": "str", "email": "str", "phone": "str", "cellphone": "str", "title": "str"})
define("TagRef", {"id": "int", "name": "str", "type": "str"})
define("Address", {
    "careof": "str", "name": "str", "street": "str", "zip": "str", "city": "str", "country": "str",
    "email": "str", "coordinates": "Coordinates", "number": "str", "letter": "str",
})
define("Addresses", {"visiting": "Address", "delivery": "Address", "invoice": "Address", "postal": "Address"})
define("FollowBody", {"key": "int", "userid": "int"})

# -- accounts -----------------------------------------------------------------
define("AccountContact", {
    "id": "int", "name": "str", "surname": "str", "email": "str", "phone": "str", "cellphone": "str",
    "primary": "int", "title": "str",
})
define("Account", {
    "id": "int", "name": "str", "alt_name": "str", "number": "str", "phone": "str", "cellphone": "str",
    "fax": "str", "email": "str", "url": "str", "vatno": "str", "active": "int", "info": "text",
    "socialmedia_fb": "str", "socialmedia_tw": "str", "socialmedia_li": "str", "department": "str",
    "externalkey": "str", "uservisitintervalweeks": "int", "alternateuservisitintervalweeks": "int",
    "addresses": "Addresses", "files": "[IdName]", "type": "IdName", "user": "UserRef",
    "parentaccount": "AccountRef", "contacts": "[AccountContact]", "followers": "[UserRef]",
    "accountgroups": "[IdName]", "tags": "[TagRef]", "alternateuserid": "str", "alternateuser": "UserRef",
})
define("AccountCoord", {"accountid": "int", "addresstype": "str", "latitude": "coord", "longitude": "coord", "distance": "coord"})
define("AccountType", {
    "id": "int", "name": "str", "defaulttab": "str", "sortorder": "int", "isdefault": "int",
    "turnover_from": "int", "turnover_to": "int", "turnoverpotential_from": "int", "turnoverpotential_to": "int",
    "turnover_volume1from": "int", "turnover_volume1to": "int", "turnover_volume2from": "int",
    "turnover_volume2to": "int", "turnoverpotential_volume1from": "int", "turnoverpotential_volume1to": "int",
    "turnoverpotential_volume2from": "int", "turnoverpotential_volume2to": "int", "typeiscustomer": "int",
    "typeisprospect": "int",
})
define("AccountBudget", {"id": "int", "year": "int", "month": "int", "budget": "int"})

# -- contacts -----------------------------------------------------------------
define("ContactPhoto", {"avatar": "str", "photo": "str"})
define("Contact", {
    "id": "int", "account": "AccountRef", "name": "str", "surname": "str", "function": "str",
    "department": "str", "email": "str", "officephone": "str", "cellphone": "str", "title": "str",
    "street": "str", "city": "str", "zip": "str", "primarycontact": "int", "socialmedia_fb": "str",
    "socialmedia_tw": "str", "socialmedia_li": "str", "idnumber": "str", "externalkey": "str",
    "active": "int", "superior": "ContactRef", "files": "[IdName]", "followers": "[UserRef]",
    "photo": "ContactPhoto", "tags": "[TagRef]",
})

# -- articles -----------------------------------------------------------------
define("ArticleGroup", {"id": "int", "name": "str", "externalkey": "str", "sortorder": "int"})
define("ListedArticleGroup", {"id": "int", "name": "str", "externalkey": "str"})
define("ArticleUnit", {"id": "int", "name": "str", "externalkey": "str"})
define("Article", {
    "id": "int", "name": "str", "price": "num", "description": "text", "warehousestatusid": "int",
    "businessareaid": "int", "servicelevelid": "int", "warehouseid": "int", "unitid": "int", "groupid": "int",
    "number": "str", "buyprice": "num", "commision": "num", "externalkey": "str", "imageurl": "str",
    "url1": "str", "url2": "str", "stockbalance": "int", "vat": "num", "accountid": "int",
    "suppliername": "str", "supplierarticlenumber": "str", "stockbalancewarningtreshold": "int",
    "brandid": "int", "materialid": "int", "incampaign": "int", "volume": "int", "area": "num",
    "volumegroupid": "int", "discountgroupid": "int", "budgetgroupid": "int", "active": "int",
    "presentation": "text", "discount": "num", "sortorder": "int", "tags": "[TagRef]",
})

# Model names the operation table uses in request bodies -> the models above.
ALIASES = {
    "ListedUser": "UserRef", "LeadUser": "UserRef", "ListedAccount": "AccountRef", "ListedContact": "ContactRef",
    "AccountGroup": "IdName", "Tag": "TagRef", "ListedFile": "IdName", "ProgressionState": "IdName",
    "ListedActivityType": "IdName", "Role": "IdName", "ListedArticleUnit": "IdName", "ChallengeType": "IdName",
    "LeadActivityType": "IdName", "object": "any", "ListedOpportunity": "OpportunityRef",
}


def resolve(name: str) -> str:
    return ALIASES.get(name, name)


def table_type(spec: str) -> str:
    """An operation-table type (``array[IdObject]``, ``int``) as a wire type."""
    if spec.startswith("array[") and spec.endswith("]"):
        return "[" + table_type(spec[6:-1]) + "]"
    return resolve(spec)
