// 相談受付: search as you type, pick a person, or choose to register a new one / stay anonymous.
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  if (!form) return;
  var search = document.getElementById("person-search");
  var results = document.getElementById("person-results");
  var choice = form.querySelector("input[name=person_choice]");
  var label = document.getElementById("person-choice-label");
  var newPerson = document.getElementById("new-person");
  var timer = null;

  function choose(value, text) {
    choice.value = value;
    label.textContent = text;
    newPerson.hidden = value !== "new";
    if (value === "new") {
      var name = document.getElementById("id_name");
      if (name && !name.value && search.value) name.value = search.value;
      if (name) name.focus();
    }
  }

  search.addEventListener("input", function () {
    clearTimeout(timer);
    var q = search.value.trim();
    if (!q) { results.innerHTML = ""; return; }
    timer = setTimeout(function () {
      var url = search.dataset.searchUrl + "?fragment=1&pick=1&q=" + encodeURIComponent(q);
      fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (search.value.trim() === q) results.innerHTML = html; });
    }, 250);
  });

  results.addEventListener("click", function (event) {
    var button = event.target.closest("[data-person-id]");
    if (!button) return;
    choose(button.dataset.personId, button.dataset.personLabel);
    results.innerHTML = "";
  });

  form.querySelectorAll("[data-person-choice]").forEach(function (button) {
    button.addEventListener("click", function () {
      choose(button.dataset.personChoice, button.dataset.personChoice === "new" ? "新しく登録" : "匿名・不明");
    });
  });
})();
