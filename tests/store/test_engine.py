"""The databases polycrm runs on: SQLite and PostgreSQL, refused otherwise at
engine creation (the search, spatial and snapshot digest SQL is written for
those two)."""

from __future__ import annotations

import re

import pytest

from polycrm.store.engine import make_engine, normalise_url


@pytest.mark.parametrize("url", ["mysql://u@localhost/crm", "oracle://u@localhost/crm", "mssql+pyodbc://dsn"])
def test_another_database_is_refused_with_its_name(url):
    with pytest.raises(ValueError, match=re.escape(f"polycrm runs on SQLite or PostgreSQL, not {url.split(':')[0]!r}")):
        make_engine(url)


def test_postgres_urls_use_psycopg():
    assert normalise_url("postgres://u@h/d") == "postgresql+psycopg://u@h/d"
    assert normalise_url("postgresql://u@h/d") == "postgresql+psycopg://u@h/d"
