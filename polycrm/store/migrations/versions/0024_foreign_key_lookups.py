"""contact, customer: indexes for the foreign-key lookups of a delete

Revision ID: 0024
Revises: 0022
Create Date: 2026-12-03 13:45:00

Deleting a customer or contact row (a snapshot restore or reset over existing
records, a merge, a delete for good) makes the database find the rows that
point at it by the referencing column alone (``ON DELETE SET NULL``: SQLite's
foreign-key actions, PostgreSQL's RI triggers). ``ix_contact_customer`` began
with ``tenant_id`` and ``contact.superior_id`` / ``customer.parent_id`` had no
index of their own, so each deleted row scanned every tenant's contacts (or
that whole index) once: a restore of 1,000 records over 1,000 others spent
most of its time there. ``ix_contact_customer`` now leads with the customer
(a lookup by tenant and customer uses it as before); the other two are partial
indexes of the rows that point somewhere (few), so writes barely pay for them.
"""
from alembic import op
from sqlalchemy import text

revision = '0024'
down_revision = '0022'
branch_labels = None
depends_on = None


def _partial(name: str, table: str, column: str) -> None:
    op.create_index(name, table, [column], sqlite_where=text(f"{column} IS NOT NULL"),
                    postgresql_where=text(f"{column} IS NOT NULL"))


def upgrade() -> None:
    op.drop_index("ix_contact_customer", table_name="contact")
    op.create_index("ix_contact_customer", "contact", ["customer_id", "tenant_id"])
    _partial("ix_contact_superior", "contact", "superior_id")
    _partial("ix_customer_parent_ref", "customer", "parent_id")


def downgrade() -> None:
    op.drop_index("ix_customer_parent_ref", table_name="customer")
    op.drop_index("ix_contact_superior", table_name="contact")
    op.drop_index("ix_contact_customer", table_name="contact")
    op.create_index("ix_contact_customer", "contact", ["tenant_id", "customer_id"])
