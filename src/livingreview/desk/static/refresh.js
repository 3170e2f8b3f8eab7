/* Keeps every open page of the desk in step with the review as the desk refreshes it.
 * Asks /refresh/status every few seconds: says when the review is updating (or why it could
 * not), and when a workflow run has written new results, reloads pages that only list things
 * (data-live="reload") and, on pages where a person may be typing or deciding, offers a link
 * instead, so nothing under their eyes changes by itself. Without this file the pages work;
 * they just do not follow by themselves. */
(function () {
  "use strict";

  var box = document.getElementById("refresh");
  if (!box) { return; }
  var message = document.getElementById("refresh-message");
  var error = document.getElementById("refresh-error");
  var show = document.getElementById("refresh-show");
  var nowForm = document.getElementById("refresh-now");
  var shown = document.body.getAttribute("data-results-version") || "";
  var live = document.body.getAttribute("data-live") === "reload";
  var typed = false;
  var timer = null;

  document.addEventListener("input", function () { typed = true; });
  show.addEventListener("click", function (event) {
    event.preventDefault();
    window.location.reload();
  });

  if (nowForm) {
    nowForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var csrf = nowForm.querySelector('input[name="csrf"]').value;
      fetch("/refresh", {
        method: "POST", credentials: "same-origin", headers: { "x-csrf-token": csrf }
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (data) { if (data) { render(data); } schedule(500); })
        .catch(function () { schedule(5000); });
    });
  }

  function render(data) {
    var text = data.message || "";
    var problem = data.error || "";
    var newer = data.version && data.version !== shown;
    if (newer && live && !typed) {
      window.location.reload();
      return;
    }
    message.textContent = newer && !text ? "The review has been updated." : text;
    error.textContent = problem;
    show.hidden = !newer;
    box.className = "refresh " + (data.phase || "idle");
    box.hidden = !(text || problem || newer);
  }

  function schedule(delay) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(poll, delay);
  }

  function poll() {
    timer = null;
    fetch("/refresh/status", { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) { throw new Error("status " + response.status); }
        return response.json();
      })
      .then(function (data) {
        render(data);
        var busy = data.phase === "running" || data.phase === "pending" || data.phase === "waiting";
        schedule(document.hidden ? 10000 : (busy ? 1000 : 2500));
      })
      .catch(function () { schedule(10000); });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) { schedule(0); }
  });
  schedule(1000);
})();
