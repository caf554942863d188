"""customer.search_text: addresses' house numbers and letters are searched too

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 19:30:00

An address keeps its house number and letter apart from the street (centiaCRM
and the web pages write them so); ``search_text`` now includes them, after the
street, so "Havnevej 3" finds a customer whose street is "Havnevej" and number
"3". Rows written before are recomputed here with the same formula as
``polycrm.core.customers`` at this revision (copied, so this migration keeps
meaning what it meant when the core changes). ``changed_at`` stays: the text is
derived and no API shows it. Downgrading keeps the longer text (harmless).
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

FIELDS = ("name", "alt_name", "number", "phone", "cellphone", "email", "vat")
ADDRESS_PARTS = ("name", "street", "number", "letter", "zip", "city", "careof")
BATCH = 2000

customer = sa.table("customer", sa.column("id", sa.Integer), sa.column("addresses", sa.JSON),
                    sa.column("search_text", sa.Text), *(sa.column(f, sa.String) for f in FIELDS))


def search_text(row) -> str:
    parts = [getattr(row, f) or "" for f in FIELDS]
    for address in (row.addresses or {}).values():
        if isinstance(address, dict):
            parts.extend(str(address.get(p) or "") for p in ADDRESS_PARTS)
    return " ".join(p for p in parts if p).casefold()


def upgrade() -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(customer).where(customer.c.id > last, customer.c.addresses.is_not(None))
                            .order_by(customer.c.id).limit(BATCH)).all()
        if not rows:
            return
        last = rows[-1].id
        changed = [{"row_id": r.id, "text": text} for r in rows
                   if any(isinstance(a, dict) and (a.get("number") or a.get("letter")) for a in (r.addresses or {}).values())
                   and (text := search_text(r)) != r.search_text]
        if changed:
            bind.execute(sa.update(customer).where(customer.c.id == sa.bindparam("row_id"))
                         .values(search_text=sa.bindparam("text")), changed)


def downgrade() -> None:
    pass
