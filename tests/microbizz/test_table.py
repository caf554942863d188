"""The command table is the truth: every handler is listed, and reads only the arguments it lists."""

from __future__ import annotations

import inspect

import pytest

from polycrm.faces.microbizz import table
from polycrm.faces.microbizz.commands import Call, customers, documents, products, sales


def test_every_handler_is_in_the_table():
    listed = {c.handler for c in table.TABLE}
    for module in (customers, documents, products, sales):
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ == module.__name__ and inspect.signature(fn).parameters.keys() == {"call"}:
                assert fn in listed or name.startswith("_"), name


def test_a_handler_cannot_read_an_argument_its_entry_does_not_list():
    call = Call("Echo", table.find("echo").arguments, {"text": "hi", "stray": 1}, None, None, None)
    assert call.raw("text") == "hi"
    with pytest.raises(LookupError, match="Echo reads 'stray'"):
        call.raw("stray")
