"""Bulk actions on a list's selected rows: one handler for every kind.

A :class:`BulkPage` ties a core :class:`~polycrm.core.bulk_actions.BulkKind`
(which actions, which service) to its list page: where to go back to, the
columns an export writes and how a row is named on the delete confirm page.
``POST {list}/bulk`` takes ``action`` (export, owner, tag, delete), the
chosen ``ids`` and the list's ``query`` to return to; a delete shows a
confirm page first and deletes on ``confirm=1``. The request is one
transaction: every id must be a live record of the kind, or nothing is done.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from polycrm.core import bulk_actions
from polycrm.core.errors import Invalid
from polycrm.web.handler import Ctx


def _named(obj: Any) -> str:
    name = " ".join(p for p in (getattr(obj, "name", None), getattr(obj, "surname", None)) if p) or "(no name)"
    number = getattr(obj, "number", None)
    return f"{name} ({number})" if number else name


# How a selected row is named (its checkbox label, the delete confirm page), per kind.
TITLES: dict[str, Callable[[Any], str]] = {
    "customers": _named,
    "contacts": _named,
    "products": _named,
    "opportunities": lambda o: o.title or f"Opportunity {o.id}",
    "tickets": lambda t: t.title or f"Ticket {t.id}",
    "activities": lambda a: a.description or f"Activity {a.id}",
}


@dataclass(frozen=True)
class BulkPage:
    kind: bulk_actions.BulkKind
    url: str  # the list
    columns: Sequence[Any]  # lists.Column: header, cell(ctx, row, names)
    names: dict[str, tuple[str, ...]]  # the display names the columns need
    row_title: Callable[[Any], str]
    display_names: Callable[[Ctx, Sequence[Any], dict[str, tuple[str, ...]]], Any]


def handler(page: BulkPage) -> Callable[[Ctx], Response]:
    kind = page.kind

    def act(ctx: Ctx) -> Response:
        back = _back(ctx, page)
        action = str(ctx.form.get("action", ""))
        selected = bulk_actions.chosen(ctx.ws, kind, ctx.form_list("ids"))
        if action == "export":
            return _csv(ctx, page, selected)
        if action == "owner" and kind.update is not None:
            changed = bulk_actions.set_owner(ctx.ws, kind, selected, ctx.form.get("user_id"))
            return ctx.redirect(back, f"{kind.owner_label.capitalize()} changed on {changed} of "
                                      f"{kind.count(len(selected))}.")
        if action == "tag" and kind.taggable:
            tagged = bulk_actions.add_tag(ctx.ws, kind, selected, str(ctx.form.get("tag", "")))
            return ctx.redirect(back, f"Tag added to {tagged} of {kind.count(len(selected))}.")
        if action == "delete":
            if ctx.form.get("confirm") != "1":
                return ctx.render("bulk_delete.html", kind=kind, page=page, back=back,
                                  rows=[(obj.id, page.row_title(obj)) for obj in selected],
                                  query=str(ctx.form.get("query", "")),
                                  title=f"Delete {kind.count(len(selected))}?")
            count = bulk_actions.delete(ctx.ws, kind, selected)
            return ctx.redirect(back, f"{kind.count(count).capitalize()} deleted.")
        raise Invalid("choose an action from the list", field="action")

    act.__name__ = f"bulk_{kind.key}"
    return act


def _csv(ctx: Ctx, page: BulkPage, selected: list[Any]) -> Response:
    """The selected rows with every column of the list (not just those shown), as CSV."""
    n = page.display_names(ctx, selected, page.names)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.header for c in page.columns])
    for item in selected:
        writer.writerow([_csv_safe(c.cell(ctx, item, n).text) for c in page.columns])
    return Response(out.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{page.kind.key}.csv"'})


def _csv_safe(text: str) -> str:
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _back(ctx: Ctx, page: BulkPage) -> str:
    query = str(ctx.form.get("query", ""))
    return page.url + ("?" + query if query and "\n" not in query and "\r" not in query else "")
