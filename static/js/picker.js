// Pickers: a text box with data-picker ("case" or "person") searches as the user types (cases by
// number or the person's name/kana, people by name/kana) and fills in the number chosen. Without
// JavaScript the box takes the number, or a name that finds exactly one record.
// A box with data-filter-list="<id>" narrows the checkbox list of that id by the text typed (staff
// names in a 支援会議's member list).
(function () {
  "use strict";

  document.querySelectorAll("input[data-picker]").forEach(function (input) {
    var results = document.createElement("div");
    results.className = "picker-results";
    results.id = input.id + "-picker-results";
    results.setAttribute("aria-live", "polite");
    input.setAttribute("aria-controls", results.id);
    input.insertAdjacentElement("afterend", results);
    var timer = null;
    input.addEventListener("input", function () {
      clearTimeout(timer);
      var q = input.value.trim();
      if (!q) { results.innerHTML = ""; return; }
      timer = setTimeout(function () {
        var url = input.dataset.pickerUrl + "?kind=" + encodeURIComponent(input.dataset.picker) + "&q=" + encodeURIComponent(q);
        fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) { if (input.value.trim() === q) results.innerHTML = html; });
      }, 250);
    });
    results.addEventListener("click", function (event) {
      var button = event.target.closest("[data-pick-value]");
      if (!button) return;
      input.value = button.dataset.pickValue;
      results.innerHTML = "";
      var chosen = document.createElement("p");
      chosen.className = "muted";
      chosen.textContent = "選択: " + button.dataset.pickLabel;
      results.appendChild(chosen);
      input.focus();
    });
  });

  document.querySelectorAll("input[data-filter-list]").forEach(function (input) {
    var list = document.getElementById(input.dataset.filterList);
    if (!list) return;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      list.querySelectorAll("label").forEach(function (label) {
        var row = label.closest("div") || label;
        var hit = !q || label.textContent.toLowerCase().indexOf(q) !== -1 || (label.querySelector("input") || {}).checked;
        row.hidden = !hit;
      });
    });
  });
})();
