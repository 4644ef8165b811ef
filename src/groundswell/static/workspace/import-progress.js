// The import page while an import runs: asks progress.json every second and moves the
// bar; reloads the page when the import is over, to show its result.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  if (!box) return;
  var bar = document.getElementById("import-bar");
  var status = document.getElementById("import-status");
  var url = box.getAttribute("data-progress-url");
  var label = box.getAttribute("data-label");
  var format = new Intl.NumberFormat();
  function ask() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(ask, 3000); return; }
        if (data.finished) { window.location.reload(); return; }
        if (data.done !== null) {
          bar.max = Math.max(1, data.rows);
          bar.value = data.done;
          status.textContent = label
            .replace("DONE", format.format(data.done))
            .replace("ROWS", format.format(data.rows));
        }
        window.setTimeout(ask, 1000);
      })
      .catch(function () { window.setTimeout(ask, 3000); });
  }
  window.setTimeout(ask, 1000);
})();
