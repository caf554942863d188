"""contacts (#52–#57): contacts = core contacts of a customer.

Wire names: ``officephone`` = core ``phone``, ``title`` = the job title
(core ``jobtitle``; the core ``title_id`` is the salutation list centia
uses), ``primarycontact`` = ``is_primary``, ``photo`` = ``extra.avatar`` /
``extra.photo``.
"""

from __future__ import annotations

from polycrm.core import contacts, links
from polycrm.core import query as q
from polycrm.core.models import Contact, Customer, Document, Lookup, User
from polycrm.faces.cirrus.entity import Entity, f_active, f_eq, f_flag, f_ids, f_like
from polycrm.faces.cirrus.handlers import creating, following, item, paged, updating
from polycrm.faces.cirrus.views import FILE_REF, TAG_REF, USER_REF, View, attr, linked, nested, ref
from polycrm.faces.cirrus.writers import to, to_bool, to_links
from polycrm.faces.cirrus.groups.accounts import ACCOUNT_REF, to_id
from polycrm.faces.cirrus.errors import CirrusService, WireField

CONTACT_REF = View("ContactRef", {
    "id": attr("id"), "name": attr("name"), "surname": attr("surname"), "title": attr("jobtitle"),
    "email": attr("email"), "officephone": attr("phone"), "cellphone": attr("cellphone"), "number": attr("extra.number"),
})
PRIMARY_CONTACT = View("PrimaryContact", {
    "id": attr("id"), "name": attr("name"), "surname": attr("surname"), "email": attr("email"),
    "phone": attr("phone"), "cellphone": attr("cellphone"), "title": attr("jobtitle"),
})
PHOTO = View("ContactPhoto", {"avatar": attr("extra.avatar"), "photo": attr("extra.photo")})
CONTACT = View("Contact", {
    "id": attr("id"), "account": ref(Customer, "customer_id", ACCOUNT_REF),
    "name": attr("name"), "surname": attr("surname"), "function": attr("function"),
    "department": attr("department"), "email": attr("email"), "officephone": attr("phone"),
    "cellphone": attr("cellphone"), "title": attr("jobtitle"), "street": attr("street"), "city": attr("city"),
    "zip": attr("zip"), "primarycontact": attr("is_primary"),
    "socialmedia_fb": attr("extra.socialmedia_fb"), "socialmedia_tw": attr("extra.socialmedia_tw"),
    "socialmedia_li": attr("extra.socialmedia_li"), "idnumber": attr("idnumber"),
    "externalkey": attr("externalkey"), "active": attr("active"),
    "superior": ref(Contact, "superior_id", CONTACT_REF),
    "files": linked(Document, FILE_REF, links.FILE, outgoing=False, other_kind=q.entity_kind(Document)),
    "followers": linked(User, USER_REF, links.FOLLOW, outgoing=False, other_kind=links.USER),
    "photo": nested(PHOTO),
    "tags": linked(Lookup, TAG_REF, links.TAG, outgoing=True, other_kind=links.LOOKUP),
})

# Core fields of a contact write as Cirrus names them in its errors.
CONTACT_SERVICE = CirrusService(contacts.SERVICE, {
    "name": WireField("name"), "customer_id": WireField("accountid", "Account"),
    "superior_id": WireField("superiorid", "Contact"),
})

CONTACT_ENTITY = Entity(
    label="Contact",
    model=Contact,
    view=CONTACT,
    writers={
        "name": to("name", required=True), "surname": to("surname", required=True),
        "function": to("function"), "department": to("department"), "email": to("email"),
        "officephone": to("phone"), "cellphone": to("cellphone"), "title": to("jobtitle"),
        "street": to("street"), "city": to("city"), "zip": to("zip"),
        "accountid": to_id("customer_id"),
        "primarycontact": to_bool("is_primary"),
        "socialmedia_fb": to("extra.socialmedia_fb"), "socialmedia_tw": to("extra.socialmedia_tw"),
        "socialmedia_li": to("extra.socialmedia_li"),
        "idnumber": to("idnumber"), "externalkey": to("externalkey"), "active": to_bool("active"),
        "superiorid": to_id("superior_id"),
        "tags": to_links(links.TAG, "tag", "Tag"),
    },
    filters={
        "accountid": f_eq("customer_id"),
        "accounttypeids": f_ids("customer_id->customer.type_id"),
        "accountuserids": f_ids("customer_id->customer.user_id"),
        "active": f_active(), "cellphone": f_like("cellphone"), "city": f_like("city"), "email": f_like("email"),
        "externalkey": f_eq("externalkey"), "name": f_like("name"), "officephone": f_like("phone"),
        "surname": f_like("surname"), "title": f_like("jobtitle"), "primarycontact": f_flag("is_primary"),
    },
    sorts={
        "name": (q.Sort("name", mode="text"), q.Sort("surname", mode="text")),
        "surname": (q.Sort("surname", mode="text"), q.Sort("name", mode="text")),
        "email": (q.Sort("email", mode="text"),),
        "primarycontact": (q.Sort("is_primary"), q.Sort("name", mode="text")),
    },
    fulltext="search_text",
    service=CONTACT_SERVICE,
)

BINDINGS = {
    "post_contact_collection": creating(CONTACT_ENTITY),
    "get_contact_collection": paged(CONTACT_ENTITY),
    "post_contact_follow": following(CONTACT_ENTITY, True),
    "post_contact_unfollow": following(CONTACT_ENTITY, False),
    "put_contact_item": updating(CONTACT_ENTITY),
    "get_contact_item": item(CONTACT_ENTITY),
}
