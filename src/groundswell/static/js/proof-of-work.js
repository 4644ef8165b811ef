// The sign form's proof of work (src/groundswell/lib/proof_of_work.py): the browser
// solves the page's puzzle for the email address typed, in a worker so that the page
// never stalls, and sends the answer with the form. It starts as soon as an address
// is typed, so it is usually done before Sign is pressed; if not, the form waits for
// it, saying so. Without this script (or a worker) the form is sent without an
// answer, and the server decides: the petition may allow that or not.
(function () {
  "use strict";

  var form = document.querySelector(".sign-form");
  var challenge = form && form.querySelector('input[name="challenge"]');
  var email = form && form.querySelector('input[name="email"]');
  var status = form && form.querySelector("[data-pow-status]");
  if (!challenge || !email || !status || !window.Worker || !window.TextEncoder) { return; }
  // "Signing this petition needs JavaScript": not for this browser.
  var notice = form.querySelector("[data-pow-notice]");
  if (notice) { notice.hidden = true; }

  // The challenge is "petition.expires.bits.salt.tag"; the server checks all of it.
  var parts = challenge.value.split(".");
  var bits = parseInt(parts[2], 10);
  var salt = parts[3];
  var answer = document.createElement("input");
  answer.type = "hidden";
  answer.name = "solution";
  form.appendChild(answer);

  var solvedFor = null;
  var running = null;  // { email, worker, waiting: [callbacks] }

  function finish(job) {
    job.worker.terminate();
    if (running === job) { running = null; }
    job.waiting.forEach(function (callback) { callback(); });
  }

  // Calls `done` once the answer for the address now typed is in the form (or the
  // worker failed, and the form goes without one).
  function solve(done) {
    var address = email.value;
    if (solvedFor === address) { if (done) { done(); } return; }
    if (running && running.email === address) { if (done) { running.waiting.push(done); } return; }
    if (running) { running.worker.terminate(); running = null; }
    answer.value = "";
    solvedFor = null;
    var job = { email: address, worker: new Worker(status.getAttribute("data-pow-worker")), waiting: done ? [done] : [] };
    job.worker.onmessage = function (event) {
      if (event.data.email === email.value) {
        answer.value = event.data.solution;
        solvedFor = event.data.email;
      }
      form.setAttribute("data-pow-milliseconds", String(event.data.milliseconds));
      finish(job);
    };
    job.worker.onerror = function () { finish(job); };
    running = job;
    job.worker.postMessage({ salt: salt, email: address, bits: bits });
  }

  email.addEventListener("change", function () { if (email.value.indexOf("@") > 0) { solve(null); } });
  if (email.value) { solve(null); }

  var sending = false;
  form.addEventListener("submit", function (event) {
    if (solvedFor === email.value && email.value) { return; }
    event.preventDefault();
    if (sending) { return; }
    sending = true;
    status.textContent = status.getAttribute("data-pow-working");
    solve(function () { form.submit(); });
  });
  window.addEventListener("pageshow", function () { sending = false; status.textContent = ""; });
})();
