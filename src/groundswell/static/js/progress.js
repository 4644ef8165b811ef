// A job's progress while it runs (a mailing's send, an import): followProgress asks the
// progress.json named by the box's data-progress-url after `wait` ms, and again after
// as many ms as show(data) returns (0: stop asking); a failed ask is tried again after
// `retry` ms. Without JavaScript those pages show what was true when they were drawn.
function followProgress(box, wait, retry, show) {
  "use strict";
  if (!box) return;
  var url = box.getAttribute("data-progress-url");
  function ask() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        var next = show(data);
        if (next) window.setTimeout(ask, next);
      })
      .catch(function () { window.setTimeout(ask, retry); });
  }
  window.setTimeout(ask, wait);
}
