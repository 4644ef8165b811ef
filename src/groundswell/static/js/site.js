// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";

  // After a failed submission, take keyboard and screen-reader users to the summary
  // (autofocus does this too; some browsers ignore it on a non-control).
  var summary = document.getElementById("error-summary");
  if (summary && document.activeElement !== summary) {
    summary.focus();
  }

  // One submission per click: a second tap while the first is on its way is ignored.
  var form = document.querySelector(".sign-form");
  if (form) {
    var sending = false;
    form.addEventListener("submit", function (event) {
      if (sending) { event.preventDefault(); }
      sending = true;
    });
    window.addEventListener("pageshow", function () { sending = false; });
  }

  // Keep the count fresh while the page is open.
  var count = document.querySelector("[data-count-url]");
  if (count && window.fetch) {
    var format = new Intl.NumberFormat(document.documentElement.lang || undefined);
    var refresh = function () {
      if (document.hidden) { return; }
      fetch(count.getAttribute("data-count-url"), { credentials: "omit" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var value = count.querySelector("[data-count]");
          var goal = count.querySelector("[data-goal]");
          var bar = count.querySelector("[data-progress]");
          if (value) { value.textContent = format.format(data.signature_count); }
          if (goal) { goal.textContent = format.format(data.goal); }
          if (bar && data.goal) {
            bar.style.width = Math.min(100, Math.round(100 * data.signature_count / data.goal)) + "%";
          }
        })
        .catch(function () {});
    };
    window.setInterval(refresh, 15000);
  }

  // "Copy link" on the thank-you page: the field stays selectable without it.
  Array.prototype.forEach.call(document.querySelectorAll("[data-copy]"), function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    var status = document.querySelector("[data-copy-status]");
    if (!input || !navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        if (status) { status.textContent = status.getAttribute("data-copied-text"); }
      }, function () {
        input.select();
      });
    });
  });
})();
