// The import job's page: ask the progress endpoint every second and show how
// far the job is; once it has finished, load the page again for the summary.
// Without JavaScript the page reloads itself instead (a <noscript> refresh).
(function () {
  "use strict";
  var box = document.getElementById("import-job");
  if (!box || box.dataset.finished) { return; }
  var bar = document.getElementById("import-bar");
  var status = document.getElementById("import-status");
  var heading = document.getElementById("import-state");
  function poll() {
    fetch(box.dataset.progress, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (job) {
        if (!job || job.finished) { window.location.reload(); return; }
        if (bar) { bar.max = job.total || 1; bar.value = job.checked; bar.textContent = job.checked + " of " + job.total; }
        if (job.state === "writing") {
          heading.textContent = "Writing";
          status.textContent = "All " + job.total + " rows checked; writing them in one transaction.";
        } else if (job.state === "checking") {
          heading.textContent = "Checking the rows";
          status.textContent = "Checked " + job.checked + " of " + job.total + " rows.";
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
