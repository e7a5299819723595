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
