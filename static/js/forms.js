// A POST form is sent once: the second click of a double click does nothing, and the buttons show
// that the form is on its way. A convenience only: the server's one-time token (jusou/once.py) is
// what prevents a second record. The buttons come back after a while (a download such as a PDF does
// not leave the page) and when the browser shows the page again from its cache.
(function () {
  "use strict";

  var RELEASE_MS = 8000;

  function release(form) {
    delete form.dataset.submitting;
    form.querySelectorAll("[data-once-disabled]").forEach(function (button) {
      button.disabled = false;
      button.removeAttribute("data-once-disabled");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") return;
    if (form.dataset.submitting) { event.preventDefault(); return; }
    form.dataset.submitting = "1";
    // After the browser has read the form (a disabled button's name would not be sent).
    setTimeout(function () {
      form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]").forEach(
        function (button) {
          if (!button.disabled) {
            button.disabled = true;
            button.setAttribute("data-once-disabled", "");
          }
        }
      );
    }, 0);
    setTimeout(function () { release(form); }, RELEASE_MS);
  });

  window.addEventListener("pageshow", function () {
    document.querySelectorAll("form[data-submitting]").forEach(release);
  });
})();

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
