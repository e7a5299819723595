// 相談受付: search as you type, pick a person, or choose to register a new one / stay anonymous;
// household members: pick each by search or type a new one, add rows; the main issue follows the
// first issue ticked while none is chosen. Without JavaScript the page works too (one member row,
// 「世帯員の欄を増やす」 adds another on the server).
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

  function searchAsYouType(input, target) {
    var pending = null;
    input.addEventListener("input", function () {
      clearTimeout(pending);
      var q = input.value.trim();
      if (!q) { target.innerHTML = ""; return; }
      pending = setTimeout(function () {
        var url = search.dataset.searchUrl + "?fragment=1&pick=1&q=" + encodeURIComponent(q);
        fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
          .then(function (r) { return r.ok ? r.text() : ""; })
          .then(function (html) { if (input.value.trim() === q) target.innerHTML = html; });
      }, 250);
    });
  }

  searchAsYouType(search, results);
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

  // --- household members ---
  var rows = document.getElementById("member-rows");
  var template = document.getElementById("member-template");
  var total = form.querySelector("input[name=members-TOTAL_FORMS]");
  var addButton = document.getElementById("add-member");

  function setUpRow(row) {
    var input = row.querySelector("[data-member-search]");
    var target = row.querySelector("[data-member-results]");
    var hidden = row.querySelector("input[type=hidden][name$='-person']");
    var picked = row.querySelector("[data-member-picked]");
    var pickedLabel = row.querySelector("[data-member-label]");
    var fresh = row.querySelector("[data-member-new]");
    searchAsYouType(input, target);
    target.addEventListener("click", function (event) {
      var button = event.target.closest("[data-person-id]");
      if (!button) return;
      hidden.value = button.dataset.personId;
      pickedLabel.textContent = button.dataset.personLabel;
      picked.hidden = false;
      fresh.hidden = true;
      target.innerHTML = "";
      input.value = "";
    });
    row.querySelector("[data-member-clear]").addEventListener("click", function () {
      hidden.value = "";
      picked.hidden = true;
      fresh.hidden = false;
      input.focus();
    });
  }

  if (rows && template && total && addButton) {
    rows.querySelectorAll("[data-member-row]").forEach(setUpRow);
    addButton.addEventListener("click", function (event) {
      var index = parseInt(total.value, 10) || 0;
      if (index >= 20) return;
      event.preventDefault();
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      row.querySelector(".member-row__title").textContent = "世帯員" + (index + 1);
      row.querySelectorAll("[data-label-context]").forEach(function (span) { span.textContent = "世帯員" + (index + 1) + " "; });
      rows.appendChild(row);
      total.value = String(index + 1);
      setUpRow(row);
      var name = row.querySelector("input[name$='-name']");
      if (name) name.focus();
    });
  }

  // The main issue: the first issue ticked, while the user has not chosen one by hand.
  var main = document.getElementById("id_main_issue");
  if (main) {
    var chosenByHand = !!main.value;
    main.addEventListener("change", function () { chosenByHand = !!main.value; });
    form.querySelectorAll("input[name=issues]").forEach(function (box) {
      box.addEventListener("change", function () {
        if (chosenByHand) return;
        if (box.checked && !main.value) {
          main.value = box.value;
        } else if (!box.checked && main.value === box.value) {
          var other = form.querySelector("input[name=issues]:checked");
          main.value = other ? other.value : "";
        }
      });
    });
  }
})();
