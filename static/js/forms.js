// A refused form (templates/jusou/_error_summary.html): focus moves to the summary of its errors when
// the page loads, so a screen reader reads 「入力内容を確認してください（n件）」 and the list first; a link
// of the list moves to its field and shows the field's label above it.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) return;
  // The summary, not a box the page would focus first (the login's user name has autofocus).
  var autofocused = Array.prototype.slice.call(document.querySelectorAll("[autofocus]"));
  autofocused.forEach(function (el) { el.removeAttribute("autofocus"); });
  summary.focus();
  window.addEventListener("load", function () {
    var active = document.activeElement;
    if (active === document.body || autofocused.indexOf(active) >= 0) summary.focus();
  });
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) return;
    var input = document.getElementById(link.getAttribute("href").slice(1));
    if (!input) return;
    event.preventDefault();
    var holder = input.closest(".field, fieldset") || input;
    holder.scrollIntoView({ block: "start" });
    input.focus({ preventScroll: true });
  });
})();
