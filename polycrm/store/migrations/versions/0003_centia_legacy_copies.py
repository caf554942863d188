"""centiaCRM data written under two old mappings: shipping-address copies, SKUs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00

Data only, no schema change (see docs/centiacrm.md):

- centia CreateCompany used to store its ``shipping_address`` as both the
  visiting and the delivery address. It is the visiting address only now, so
  a delivery address that is still an exact copy of the visiting address, on
  a company made through centia (one with a profile: Microbizz and Cirrus make
  customers without one, and the web pages have no delivery address), is
  removed; Cirrus would otherwise show the stale copy as the delivery address
  once the main address moves. A delivery address that differs is kept.
- centia ``sku`` used to be a column of its own; it is the product number now
  (Microbizz ``productnumber``, Cirrus article ``number``). A product without
  a number gets its SKU as its number. The ``sku`` column is left as it is.

Changed rows get a new ``changed_at``, so change-feed syncs pick them up.
Downgrading changes nothing: the data is as valid under the old mappings.
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

customer = sa.table(
    "customer",
    sa.column("id", sa.Integer), sa.column("profile_id", sa.Integer),
    sa.column("addresses", sa.JSON), sa.column("changed_at", sa.DateTime),
)
product = sa.table(
    "product",
    sa.column("id", sa.Integer), sa.column("number", sa.String), sa.column("sku", sa.String),
    sa.column("changed_at", sa.DateTime),
)


def upgrade() -> None:
    bind = op.get_bind()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = bind.execute(sa.select(customer.c.id, customer.c.addresses).where(customer.c.profile_id.is_not(None)))
    copies = {}
    for id_, addresses in rows:
        if isinstance(addresses, dict) and addresses.get("delivery") and addresses["delivery"] == addresses.get("visiting"):
            copies[id_] = {kind: a for kind, a in addresses.items() if kind != "delivery"}
    for id_, addresses in copies.items():
        bind.execute(sa.update(customer).where(customer.c.id == id_).values(addresses=addresses, changed_at=now))
    bind.execute(
        sa.update(product)
        .where(sa.or_(product.c.number.is_(None), product.c.number == ""), product.c.sku.is_not(None), product.c.sku != "")
        .values(number=product.c.sku, changed_at=now)
    )


def downgrade() -> None:
    pass
