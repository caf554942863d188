"""A quote as a PDF (fpdf2): head, lines with their totals, the sum.

The text font is DejaVu Sans from the system when it is installed (Debian's
``fonts-dejavu-core``; any Unicode text prints), else the PDF core font
Helvetica, which covers Latin-1 (Danish, German, French, ...), other
characters printed as "?". No font is shipped with polycrm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path

from fpdf import FPDF

from polycrm.core import sales
from polycrm.core.models import Quote, QuoteLine
from polycrm.web.forms import format_amount, format_decimal

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
# (heading, width in mm, alignment) of the line table; 180 mm fit an A4 page.
COLUMNS = (("Item", 24, "L"), ("Text", 64, "L"), ("Qty", 16, "R"), ("Unit price", 26, "R"),
           ("Discount", 22, "R"), ("Total", 28, "R"))


class _QuotePdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        regular, bold = DEJAVU / "DejaVuSans.ttf", DEJAVU / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            self.add_font("body", "", str(regular))
            self.add_font("body", "B", str(bold))
            self.family_name, self.unicode = "body", True
        else:
            self.family_name, self.unicode = "helvetica", False
        self.set_auto_page_break(True, margin=15)
        self.set_margins(15, 15, 15)

    def text_of(self, value: object) -> str:
        text = "" if value is None else str(value)
        return text if self.unicode else text.encode("latin-1", "replace").decode("latin-1")

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(self.family_name, "", 8)
        self.cell(0, 5, f"Page {self.page_no()}/{{nb}}", align="C")


def render(quote: Quote, lines: Sequence[QuoteLine], *, customer: str, seller: str, status: str,
           units: Mapping[int, str], currency: str | None, tenant: str) -> bytes:
    """The PDF bytes of ``quote`` and its live ``lines``."""
    pdf = _QuotePdf()
    t = pdf.text_of
    pdf.set_title(t(f"Quote {quote.number or quote.id}"))
    pdf.set_author(t(tenant))
    pdf.add_page()
    pdf.set_font(pdf.family_name, "B", 18)
    pdf.cell(0, 10, t(f"Quote {quote.number or quote.id}"), new_x="LMARGIN", new_y="NEXT")
    if quote.title:
        pdf.set_font(pdf.family_name, "", 13)
        pdf.multi_cell(0, 7, t(quote.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(pdf.family_name, "", 10)
    facts = [("From", tenant), ("Customer", customer), ("Salesperson", seller), ("Status", status),
             ("Placed", quote.placedate), ("Valid until", quote.validtodate), ("Currency", currency)]
    for label, value in facts:
        if value:
            pdf.set_font(pdf.family_name, "B", 10)
            pdf.cell(30, 6, t(label))
            pdf.set_font(pdf.family_name, "", 10)
            pdf.multi_cell(0, 6, t(value.isoformat() if hasattr(value, "isoformat") else value),
                           new_x="LMARGIN", new_y="NEXT")
    if quote.description:
        pdf.ln(2)
        pdf.multi_cell(0, 5, t(quote.description), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(pdf.family_name, "B", 9)
    for heading, width, align in COLUMNS:
        pdf.cell(width, 7, heading, border="B", align=align)
    pdf.ln()
    pdf.set_font(pdf.family_name, "", 9)
    for line in lines:
        total = sales.line_total(line).quantize(Decimal("0.01"))
        discount = " ".join(x for x in (f"{format_decimal(line.discountpercent)} %" if line.discountpercent else "",
                                        format_amount(line.discountamount) if line.discountamount else "") if x)
        unit = line.unit or units.get(line.unit_id or 0, "")
        quantity = format_decimal(line.quantity) + (f" {unit}" if unit else "")
        cells = (line.product_number or "", line.text or "", quantity, format_amount(line.price), discount,
                 format_amount(total))
        # The text column may wrap; every cell of the row gets the height of the tallest.
        heights = [len(pdf.multi_cell(width, 5, t(value), dry_run=True, output="LINES")) or 1
                   for value, (_, width, _) in zip(cells, COLUMNS)]
        height = 5 * max(heights)
        if pdf.will_page_break(height):
            pdf.add_page()
        y = pdf.get_y()
        x = pdf.l_margin
        for value, (_, width, align) in zip(cells, COLUMNS):
            pdf.set_xy(x, y)
            pdf.multi_cell(width, 5, t(value), align=align)
            x += width
        pdf.set_xy(pdf.l_margin, y + height)
        pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + sum(c[1] for c in COLUMNS), pdf.get_y())
    pdf.ln(2)
    pdf.set_font(pdf.family_name, "B", 11)
    total = sales.document_total(lines) if lines else (quote.price or Decimal(0))
    pdf.cell(sum(c[1] for c in COLUMNS) - 50, 8, "Total", align="R")
    pdf.cell(50, 8, t(format_amount(total, currency or None)), align="R")
    return bytes(pdf.output())
