// Live line totals on the quote form, and an "Add line" button.
// Progressive enhancement: without this script the form still works and the
// server computes every total on save (the core's line maths); this mirrors it.
(function () {
  "use strict";
  var table = document.getElementById("quote-lines");
  if (!table) return;
  var currency = table.getAttribute("data-currency") || "";

  // The server's reading of a number: spaces ignored; a comma after the last
  // point is the decimal mark (1.249,50), otherwise commas group thousands.
  function parse(text) {
    var s = (text || "").replace(/[\s\u00a0]/g, "");
    if (!s) return null;
    var comma = s.lastIndexOf(","), point = s.lastIndexOf(".");
    if (comma >= 0 && comma > point) s = s.replace(/\./g, "").replace(",", ".");
    else s = s.replace(/,/g, "");
    if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(s)) return NaN;
    return parseFloat(s);
  }

  function format(value) {
    var parts = Math.abs(value).toFixed(2).split(".");
    var whole = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (value < 0 ? "-" : "") + whole + "." + parts[1] + (currency ? " " + currency : "");
  }

  function field(row, name) {
    return row.querySelector('[name="line_' + name + '"]');
  }

  function rowTotal(row) {
    var product = field(row, "product");
    var chosen = product && product.selectedOptions[0];
    var quantity = parse(field(row, "quantity").value);
    var price = parse(field(row, "price").value);
    if (price === null && chosen && chosen.value) price = parse(chosen.getAttribute("data-price"));
    var percent = parse(field(row, "discountpercent").value);
    var amount = parse(field(row, "discountamount").value);
    if ([quantity, price, percent, amount].some(function (v) { return v !== null && isNaN(v); })) return null;
    if (quantity === null) quantity = 1;
    var total = quantity * (price || 0);
    if (percent) total -= total * percent / 100;
    if (amount) total -= amount;
    return Math.round(total * 100) / 100;
  }

  function recompute() {
    var sum = 0;
    table.querySelectorAll("tbody tr.quote-line").forEach(function (row) {
      var out = row.querySelector(".line-total");
      var removed = row.querySelector('[name="line_remove"]').checked;
      var blank = !field(row, "product").value && !field(row, "text").value.trim() && !field(row, "price").value.trim();
      var total = rowTotal(row);
      out.textContent = total === null ? "?" : (blank ? "" : format(total));
      if (total !== null && !removed && !blank) sum += total;
    });
    document.getElementById("quote-sum").textContent = format(sum);
  }

  table.addEventListener("input", recompute);
  table.addEventListener("change", recompute);

  var add = document.getElementById("add-line");
  add.hidden = false;
  add.addEventListener("click", function () {
    var rows = table.querySelectorAll("tbody tr.quote-line");
    var index = rows.length;
    var copy = rows[rows.length - 1].cloneNode(true);
    copy.querySelectorAll(".error").forEach(function (e) { e.remove(); });
    copy.querySelectorAll("td.invalid").forEach(function (td) { td.classList.remove("invalid"); });
    copy.querySelectorAll("input, select").forEach(function (input) {
      var name = input.getAttribute("name");
      input.removeAttribute("aria-invalid");
      input.removeAttribute("aria-describedby");
      if (input.type === "checkbox") { input.checked = false; input.value = String(index); }
      else if (name === "line_quantity") input.value = "1";
      else if (input.tagName === "SELECT") input.selectedIndex = 0;
      else input.value = "";
      if (input.id) input.id = input.id.replace(/^line\d+-/, "line" + index + "-");
    });
    copy.querySelectorAll("label[for]").forEach(function (label) {
      label.setAttribute("for", label.getAttribute("for").replace(/^line\d+-/, "line" + index + "-"));
      label.textContent = label.textContent.replace(/\d+/, String(index + 1));
    });
    table.querySelector("tbody").appendChild(copy);
    copy.querySelector("select").focus();
    recompute();
  });
})();
