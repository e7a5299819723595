// List tables (class "table") on a phone: each row becomes a card and each cell is labelled by its
// column's header (data-label, shown by static/css/jusou.css at narrow widths), so no page repeats the
// labels in its markup. The table keeps its roles for screen readers when its cells are laid out as
// blocks (a browser may otherwise drop a table's semantics once its display changes).
(function () {
  "use strict";
  document.querySelectorAll("table.table").forEach(function (table) {
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head) return;
    var labels = [];
    Array.prototype.forEach.call(head.cells, function (cell) {
      for (var i = 0; i < (cell.colSpan || 1); i++) labels.push(cell.textContent.trim());
      cell.setAttribute("role", "columnheader");
    });
    table.setAttribute("role", "table");
    table.classList.add("table--cards");
    Array.prototype.forEach.call(table.rows, function (row) {
      row.setAttribute("role", "row");
      if (row.parentNode === table.tHead) return;
      var column = 0;
      Array.prototype.forEach.call(row.cells, function (cell) {
        if (!cell.hasAttribute("data-label")) cell.setAttribute("data-label", labels[column] || "");
        cell.setAttribute("role", cell.tagName === "TH" ? "rowheader" : "cell");
        column += cell.colSpan || 1;
      });
    });
    Array.prototype.forEach.call(table.children, function (part) {
      if (/^T(HEAD|BODY|FOOT)$/.test(part.tagName)) part.setAttribute("role", "rowgroup");
    });
  });
})();
