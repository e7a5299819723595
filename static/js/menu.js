// The site menu on a phone (templates/base.html): folded behind 「メニュー」 so that the header takes
// a line, opened and closed by the button. Loaded right after the header (not deferred), so the page
// never shows the menu open first. Without the script the button stays hidden and the menu open.
(function () {
  "use strict";
  var button = document.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (!button || !menu) return;
  var header = button.closest(".site-header");
  header.classList.add("site-header--folding");
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    header.classList.toggle("site-header--open", open);
  });
})();
