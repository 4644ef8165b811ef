// The progress bar on a mailing's staff page: polls progress.json while it sends.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) return;
  var meter = box.querySelector(".progress-meter");
  var text = box.querySelector(".progress-text");
  var template = text.getAttribute("data-template");
  var number = new Intl.NumberFormat();
  // What the page was drawn with: when the send ends, pauses or leaves copies unknown,
  // the page is drawn again so its status, buttons and notes say so.
  var drawnStatus = box.getAttribute("data-status");
  var drawnUnknown = Number(box.getAttribute("data-unknown") || 0);

  function isTyping() {
    var active = document.activeElement;
    return !!active && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
  }

  function show(p) {
    var total = p.total || 0, sent = p.sent || 0;
    meter.max = Math.max(1, total);
    meter.value = Math.min(sent, meter.max);
    text.textContent = template
      .replace("SENT", number.format(sent))
      .replace("TOTAL", number.format(total))
      .replace("RATE", number.format(p.rate || 0))
      .replace("FAILED", number.format(p.failed || 0))
      .replace("UNKNOWN", number.format(p.unknown || 0));
    return p.status === "sending" || p.status === "scheduled";
  }

  followProgress(box, 0, 10000, function (p) {
    var changed = p.status !== drawnStatus || (p.unknown || 0) !== drawnUnknown;
    if (changed && !isTyping()) {
      window.location.reload();
      return 0;
    }
    return show(p) || changed ? 2000 : 15000;
  });
})();
