// The import page while an import runs: asks progress.json every second and moves the
// bar; reloads the page when the import is over, to show its result.
(function () {
  "use strict";
  var box = document.getElementById("import-progress");
  var bar = document.getElementById("import-bar");
  var status = document.getElementById("import-status");
  var format = new Intl.NumberFormat();
  followProgress(box, 1000, 3000, function (data) {
    if (data.finished) {
      window.location.reload();
      return 0;
    }
    if (data.done !== null) {
      bar.max = Math.max(1, data.rows);
      bar.value = data.done;
      status.textContent = box.getAttribute("data-label")
        .replace("DONE", format.format(data.done))
        .replace("ROWS", format.format(data.rows));
    }
    return 1000;
  });
})();
