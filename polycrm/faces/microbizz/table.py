"""The command table: every Microbizz command as data.

Each :class:`Command` names its handler (``commands/<vendor page>.py``),
whether it writes (a batch with one writing command opens a writing
workspace) and the arguments it reads; a handler reading an argument its
entry does not list fails (:meth:`polycrm.faces.microbizz.commands.Call.raw`),
so this table stays the truth. Arguments a client sends that a command does
not read are ignored, as the vendor does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from polycrm.faces.microbizz.commands import Handler, customers, documents, persons, products, sales
from polycrm.faces.microbizz.commands._shared import SYNC_ARGUMENTS as SYNC
from polycrm.faces.microbizz.commands.documents import FILE_ARGUMENTS as FILE


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    writes: bool
    arguments: frozenset[str]
    # Its failure fails the whole envelope too: an app that reads only the
    # envelope status must still see it (ValidateSessionToken).
    fails_envelope: bool = False


def read(name: str, handler: Handler, *arguments: str) -> Command:
    return Command(name, handler, False, frozenset(arguments))


def gate(name: str, handler: Handler, *arguments: str) -> Command:
    """A read whose refusal also fails the envelope (a check an app gates on)."""
    return Command(name, handler, False, frozenset(arguments), fails_envelope=True)


def write(name: str, handler: Handler, *arguments: str) -> Command:
    return Command(name, handler, True, frozenset(arguments))


TABLE: tuple[Command, ...] = (
    # -- Customer commands ---------------------------------------------------
    write("CreateUpdateCustomerByID", customers.create_update_customer_by_id, "customer"),
    write("CreateUpdateCustomerByCustomerNumber", customers.create_update_customer_by_number, "customer"),
    read("GetCustomerByID", customers.get_customer_by_id, "customerid"),
    read("GetCustomerByCustomerNumber", customers.get_customer_by_number, "customernumber"),
    read("GetCustomerByName", customers.get_customer_by_name, "customername"),
    read("GetCustomersByParentID", customers.get_customers_by_parent, "customerid", "includeall", "ignoreclosed"),
    read("GetParentCustomers", customers.get_parent_customers, "customerid", "ignoreclosed"),
    read("GetCustomersByLastChange", customers.get_customers_by_last_change, "ignoreclosed", "skip_deleted", *SYNC),
    read("GetDepotOrderLinesByLastChange", customers.get_depot_order_lines, *SYNC),
    read("GetProceduresByLastChange", customers.get_procedures, "skip_deleted", *SYNC),
    read("GetSubscriptionsBylastChangeID", customers.get_subscriptions_by_last_change, *SYNC),
    read("GetSubscriptionsByCustomerID", customers.get_subscriptions_by_customer, "customerid"),
    read("GetCustomerTypes", customers.get_customer_types),
    read("GetMaingroups", customers.get_maingroups),
    read("GetCustomerRoles", customers.get_customer_roles),
    read("GetDocumentsByCustomerID", documents.get_documents, "customerid", "inclthumbs", "inclfolders"),
    write("AddFileToCustomer", documents.add_file_to_customer, "customerid", *FILE),
    write(
        "AddPhotoToCustomer", documents.add_photo_to_customer,
        "customerid", "documentid", "title", "onxnet", "tags", "createdate", "createtime", "imagedata",
    ),
    # -- Persons and interface hooks (docs/integrations.md) -------------------
    read("GetPersonByEmail", persons.get_person_by_email, "email"),
    read("GetTodosByPersonID", persons.get_todos_by_person, "personid"),
    gate("ValidateSessionToken", persons.validate_session_token, "sessiontoken"),
    # -- Product commands ----------------------------------------------------
    write("CreateUpdateProductByID", products.create_update_product_by_id, "product"),
    write("CreateUpdateProductByProductNumber", products.create_update_product_by_number, "product"),
    read("GetProductByID", products.get_product_by_id, "productid", "include_prices"),
    read("GetProductByProductNumber", products.get_product_by_number, "productnumber", "include_prices"),
    read(
        "GetProductsByLastChange", products.get_products_by_last_change,
        "skip_deleted", "ignoreclosed", "onlyfavorites", "include_prices", *SYNC,
    ),
    write("DeleteProductByID", products.delete_product_by_id, "productid"),
    write("CreateDirectOrder", products.create_direct_order, "customerid", "lines", "note", "deliverydate"),
    read("GetProductGroups", products.get_product_groups, "inclchildren"),
    write("AssignIndividualPriceByProductNumber", products.assign_individual_price, "price", "productnumber", "customerid"),
    write("RemoveIndividualPriceByProductNumber", products.remove_individual_price, "productnumber", "customerid"),
    write(
        "CreateUpdateIndividualPricesByCustomerID", products.update_individual_prices,
        "customerid", "prices", "allow_create",
    ),
    # -- Sales commands ------------------------------------------------------
    read("Echo", sales.echo, "text"),
    write("RegisterCall", sales.register_call, "phonenumber", "incoming", "calldate", "calltime", "duration"),
    read("GetMyPendingCalls", sales.get_my_pending_calls),
    write("EndCall", sales.end_call, "callid", "duration", "note", "answer"),
    write("CreateCall", sales.create_call, "call", "userid"),
    read("GetMAEvents", sales.get_ma_events),
    read("GetProductStates", sales.get_product_states),
    read("GetProductUnits", sales.get_product_units),
    write("CreateUpdateProductUnit", sales.create_update_product_unit, "unit"),
    write("CreateUpdateSalesContract", sales.create_update_sales_contract, "salescontract"),
    write("CreateUpdateSalesContractLine", sales.create_update_sales_contract_line, "line", "salescontractline"),
    read("GetSalesContractsByLastChange", sales.get_sales_contracts, "use_pagination", *SYNC),
    read("GetSalesContractLinesByLastChange", sales.get_sales_contract_lines, *SYNC),
    write("AddFileToSalesContract", documents.add_file_to_sales_contract, "contractid", *FILE),
    write("AddFavoriteProduct", sales.add_favorite_product, "productnumber"),
    write("RemoveFavoriteProduct", sales.remove_favorite_product, "productnumber"),
    write("SetFavoriteProducts", sales.set_favorite_products, "favorites"),
    read("GetFavoriteProducts", sales.get_favorite_products),
    read("GetInvoicePricingBySource", sales.get_invoice_pricing, "source", "id"),
    write("CreateUpdateInvoicePricing", sales.create_update_invoice_pricing, "source", "id", "ips"),
)

BY_NAME: dict[str, Command] = {c.name.lower(): c for c in TABLE}
if len(BY_NAME) != len(TABLE):
    raise ValueError("a Microbizz command is listed twice")


def find(name: Any) -> Command | None:
    """Command names are matched without regard to case (the vendor's own
    spelling varies, e.g. ``GetSubscriptionsBylastChangeID``)."""
    if not isinstance(name, str):
        return None
    return BY_NAME.get(name.strip().lower())
