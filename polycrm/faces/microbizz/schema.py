"""``GET /api/schema.json``: every Microbizz command as JSON Schema, from the command table.

Generated from :data:`polycrm.faces.microbizz.table.TABLE`, the table the
endpoint runs by, so it names exactly the commands and arguments the server
reads. The table lists which arguments a command reads, not their types
(a handler converts each leniently, as the vendor does: docs/microbizz.md
"Types"), so an argument's schema is any JSON value. Every command's result
is an object with ``status`` 1 and its output, or ``status`` 0 and a ``msg``.
"""

from __future__ import annotations

from typing import Any

from polycrm.faces.microbizz import table

DRAFT = "https://json-schema.org/draft/2020-12/schema"

RESULT = {
    "oneOf": [
        {"type": "object", "required": ["status"], "properties": {"status": {"const": 1}}},
        {"type": "object", "required": ["status", "msg"], "additionalProperties": False,
         "properties": {"status": {"const": 0}, "msg": {"type": "string", "minLength": 1}}},
    ]
}
ENVELOPE_ANSWER = {
    "type": "object",
    "required": ["status", "msg", "results", "date", "time"],
    "properties": {
        "status": {"enum": [0, 1]},
        "msg": {"type": "string"},
        "results": {"type": "array", "items": RESULT},
        "date": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        "time": {"type": "string", "pattern": r"^\d{2}:\d{2}:\d{2}$"},
    },
}
CREDENTIALS = {
    "contract": {"type": ["integer", "string"]}, "apikey": {"type": "string"}, "username": {"type": "string"},
    "password": {"type": "string"}, "accesstoken": {"type": "string"}, "haltonerror": {},
}


def command_schema(command: table.Command) -> dict[str, Any]:
    return {
        "writes": command.writes,
        "input": {
            "type": "object",
            "required": ["command"],
            "properties": {"command": {"const": command.name}, **{arg: {} for arg in sorted(command.arguments)}},
        },
        "output": RESULT,
    }


def document() -> dict[str, Any]:
    return {
        "$schema": DRAFT,
        "title": "Microbizz command API (polycrm)",
        "endpoint": "/api/endpoint.php",
        "envelope": {
            "input": {"type": "object", "required": ["contract", "commands"],
                      "properties": {**CREDENTIALS, "commands": {"type": "array", "maxItems": 1000}}},
            "output": ENVELOPE_ANSWER,
        },
        "commands": {command.name: command_schema(command) for command in table.TABLE},
    }
