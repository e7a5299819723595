// Date fields (jusou.forms.DateInput): show the reading of what is typed — 西暦 or 和暦 — beside the
// field as the user types: 「S19.5.10」 → 昭和19年5月10日（1944年5月10日）. The era table comes from the
// server (data-wareki, written by jusou.wareki.eras_json), so the eras are written in one place; the
// server's parser (jusou.wareki.parse_date) decides, this only shows its reading early. A date-and-time
// field (data-wareki-time, jusou.forms.DateTimeInput) reads the time after the date as
// jusou.wareki.parse_datetime does: 「R7.4.1 14:00」 → 令和7年4月1日 14:00（2025年4月1日）.
(function () {
  "use strict";
  var DASHES = /[ー―‐‑–—−－]/g;
  var SEP = "[./\\-・]";
  var WAREKI = new RegExp("^(明治|大正|昭和|平成|令和|[MTSHR明大昭平令])\\s*(\\d{1,2}|元)\\s*(?:年|" + SEP + ")\\s*" +
    "(\\d{1,2})\\s*(?:月|" + SEP + ")\\s*(\\d{1,2})\\s*日?$");
  var WAREKI_COMPACT = /^([MTSHR])(\d{2})(\d{2})(\d{2})$/;
  var WESTERN = new RegExp("^(?:西暦)?\\s*(\\d{4})\\s*(?:年|" + SEP + ")\\s*(\\d{1,2})\\s*(?:月|" + SEP + ")\\s*" +
    "(\\d{1,2})\\s*日?$");
  var WESTERN_COMPACT = /^(\d{4})(\d{2})(\d{2})$/;

  function normalise(text) {
    // NFKC as on the server: full-width digits and letters to half-width, ㍼ to 昭和.
    var value = text.normalize ? text.normalize("NFKC") : text;
    return value.replace(DASHES, "-").trim().toUpperCase();
  }

  function isoDay(year, month, day) {
    var d = new Date(0);
    d.setUTCFullYear(year, month - 1, day);  // not Date.UTC, which reads the years 0–99 as 1900–1999
    if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return null;
    return d;
  }

  function iso(d) { return d.toISOString().slice(0, 10); }

  function Eras(table) {
    // [[name, letter, first day (ISO), Western year of 元年], …], newest first
    this.table = table;
  }
  Eras.prototype.find = function (token) {
    for (var i = 0; i < this.table.length; i++) {
      var era = this.table[i];
      if (token === era[0] || token === era[1] || token === era[0].charAt(0)) return i;
    }
    return -1;
  };
  Eras.prototype.wareki = function (d) {
    var key = iso(d);
    for (var i = 0; i < this.table.length; i++) {
      var era = this.table[i];
      if (key >= era[2]) {
        var year = d.getUTCFullYear() - era[3] + 1;
        return era[0] + (year === 1 ? "元" : year) + "年" + (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日";
      }
    }
    return seireki(d);
  };

  function seireki(d) {
    return d.getUTCFullYear() + "年" + (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日";
  }

  // {day: Date}, {error: "…"} (the server's message) or null while the text is not (yet) a date
  function parse(text, eras) {
    var raw = text.trim(), value = normalise(text), m;
    var noSuchDate = { error: "「" + raw + "」は存在しない日付です。" };
    if ((m = WESTERN.exec(value) || WESTERN_COMPACT.exec(value))) {
      var western = isoDay(+m[1], +m[2], +m[3]);
      return western ? { day: western } : noSuchDate;
    }
    m = WAREKI.exec(value) || WAREKI_COMPACT.exec(value);
    if (!m) return null;  // say nothing while the user is still typing
    var index = eras.find(m[1]);
    if (index < 0) return null;
    var era = eras.table[index];
    var number = m[2] === "元" ? 1 : +m[2];
    var typed = era[0] + (number === 1 ? "元" : number) + "年" + (+m[3]) + "月" + (+m[4]) + "日";
    if (number < 1) return { error: "「" + raw + "」の年は元年（1年）からです。" };
    var day = isoDay(era[3] + number - 1, +m[3], +m[4]);
    if (!day) return noSuchDate;
    var key = iso(day);
    if (index > 0 && key >= eras.table[index - 1][2]) {
      var last = new Date(Date.parse(eras.table[index - 1][2] + "T00:00:00Z") - 86400000);
      return { error: era[0] + "は" + eras.wareki(last) + "までです（" + typed + "は" + eras.wareki(day) + "）。" };
    }
    if (key < era[2]) {
      if (index === eras.table.length - 1) return { error: "明治6年（1873年）より前の日付は旧暦のため入力できません。" };
      return { error: era[0] + "は" + eras.wareki(new Date(Date.parse(era[2] + "T00:00:00Z"))) + "からです（" +
        typed + "は" + eras.wareki(day) + "）。" };
    }
    return { day: day };
  }

  // The time after the date: 14:00, 14時, 14時05分, 午後2時 (jusou.wareki._TIME).
  var TIME = /(?:^|[\sT日])\s*(午前|午後|AM|PM)?\s*(\d{1,2})\s*(?:時\s*(?:(\d{1,2})\s*分)?|:\s*(\d{2})(?::\d{2}(?:\.\d+)?)?)$/;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // {day, time: "14:00"}, {error} or null while the text is not (yet) a date and time
  function parseMoment(text, eras) {
    var raw = text.trim(), value = normalise(text), m = TIME.exec(value);
    if (!m) return null;
    var cut = m.index + (m[0].charAt(0) === "日" ? 1 : 0);  // a 日 ends the date
    var dayText = value.slice(0, cut).trim().replace(/T$/, "").trim();
    if (!dayText) return null;
    var result = parse(dayText, eras);
    if (!result || result.error) return result;
    var hour = +m[2], minute = +(m[4] || m[3] || 0);
    if (m[1]) {
      if (hour > 12) return { error: "「" + raw + "」は存在しない時刻です（午前・午後は12時まで）。" };
      hour = hour % 12 + (m[1] === "午後" || m[1] === "PM" ? 12 : 0);
    }
    if (hour > 23 || minute > 59) return { error: "「" + raw + "」は存在しない時刻です。" };
    if (result.day.getUTCFullYear() < 1000) {
      return { error: "「" + raw + "」の年（" + result.day.getUTCFullYear() + "年）は日時として扱えません。" };
    }
    return { day: result.day, time: hour + ":" + pad(minute) };
  }

  function attach(input) {
    var reading = document.getElementById(input.id + "_reading");
    if (!reading) return;
    var eras;
    try { eras = new Eras(JSON.parse(input.dataset.wareki)); } catch (e) { return; }
    var withTime = input.dataset.warekiTime !== undefined;
    function show() {
      var text = input.value.trim();
      var result = text ? (withTime ? parseMoment(input.value, eras) : parse(input.value, eras)) : null;
      reading.classList.toggle("field__reading--error", !!(result && result.error));
      if (!result) { reading.textContent = ""; return; }
      if (result.error) { reading.textContent = result.error; return; }
      reading.textContent = eras.wareki(result.day) + (result.time ? " " + result.time : "") + "（" + seireki(result.day) + "）";
    }
    input.addEventListener("input", show);
    // A refused value already carries the server's message under the field: not said twice.
    if (input.getAttribute("aria-invalid") !== "true") show();
  }

  document.querySelectorAll("input[data-wareki]").forEach(attach);
})();
