// 統計の出力: keep the progress bar current by asking the job's status every second, and show the
// download link when the file is ready. Without JavaScript the page refreshes itself instead.
(function () {
  "use strict";
  var box = document.getElementById("export-job");
  if (!box || box.dataset.finished === "1") return;
  var bar = document.getElementById("export-progress");
  var percent = document.getElementById("export-percent");
  var label = document.getElementById("export-status-label");
  var message = document.getElementById("export-message");
  var download = document.getElementById("export-download");
  var link = document.getElementById("export-download-link");
  var failures = 0;

  function show(job) {
    bar.value = job.progress;
    bar.textContent = job.progress + "%";
    percent.textContent = job.progress + "%";
    label.textContent = job.status_label;
    label.className = "status export-status--" + job.status;
    message.textContent = job.message;
    if (job.download_url) {
      link.href = job.download_url;
      if (job.filename) link.textContent = job.filename + "をダウンロード";
      download.hidden = false;
    }
    return job.status === "done" || job.status === "failed";
  }

  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (job) {
        failures = 0;
        if (!show(job)) setTimeout(poll, 1000);
      })
      .catch(function () {
        // A dropped connection: keep trying, more slowly, and stop after a minute of silence.
        failures += 1;
        if (failures < 30) setTimeout(poll, 2000);
        else message.textContent = "進捗を取得できません。ページを再読み込みしてください。";
      });
  }

  setTimeout(poll, 1000);
})();
