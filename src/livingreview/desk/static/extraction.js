/* Extraction form and adjudication: the workflow's checks while typing, and taking values.
 * The form works without this file (the server checks every save with the workflow's own
 * validator); here the same validation endpoint is asked while the person types, and each
 * message the workflow gives is shown beside its row, its cell marked. */
(function () {
  "use strict";

  var form = document.getElementById("sheet-form");
  if (!form) { return; }
  var url = form.getAttribute("data-check");
  var csrfField = form.querySelector('input[name="csrf"]');
  var status = document.getElementById("check-status");
  var summary = document.getElementById("live-problems");
  var timer = null;
  var sequence = 0;

  function clearMarks() {
    Array.prototype.forEach.call(form.querySelectorAll(".invalid, [aria-invalid]"), function (el) {
      el.classList.remove("invalid");
      el.classList.remove("invalid-row");
      el.removeAttribute("aria-invalid");
    });
    Array.prototype.forEach.call(form.querySelectorAll("ul.row-problems, #live-problems"), function (ul) {
      ul.textContent = "";
    });
  }

  function addMessage(list, text) {
    if (!list) { return; }
    var item = document.createElement("li");
    item.textContent = text;  // the workflow's message, always as text
    list.appendChild(item);
  }

  function show(problems) {
    clearMarks();
    problems.forEach(function (problem) {
      addMessage(summary, problem.message);
      if (problem.row === null || problem.row === undefined) { return; }
      addMessage(document.getElementById("problems-r" + problem.row), problem.message);
      if (!problem.field) { return; }
      var cell = form.querySelector('[name="r' + problem.row + "." + problem.field + '"]');
      if (cell) {
        cell.classList.add("invalid");
        cell.setAttribute("aria-invalid", "true");
        var line = cell.closest("tr");
        if (line) { line.classList.add("invalid-row"); }
      }
    });
    if (status) {
      status.textContent = problems.length
        ? problems.length + " problem(s) the workflow would refuse"
        : "The workflow accepts this sheet.";
      status.className = "small " + (problems.length ? "bad" : "ok");
    }
  }

  function check() {
    if (!url || !window.fetch) { return; }
    var body = new URLSearchParams(new FormData(form));
    body.delete("op");
    var mine = ++sequence;
    fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrfField ? csrfField.value : "" }
    }).then(function (response) {
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (answer && mine === sequence) { show(answer.problems || []); }
    }).catch(function () { /* offline: the save still checks everything */ });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 350);
  }

  form.addEventListener("input", function (event) {
    var target = event.target;
    var typed = target && target.name ? form.querySelector('input[data-typed="' + target.name + '"]') : null;
    if (typed) { typed.checked = true; }  // typing a value chooses "this value"
    later();
  });
  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.getAttribute && target.getAttribute("data-fill") !== null) {
      var input = form.querySelector('[name="' + target.getAttribute("data-target") + '"]');
      if (input) { input.value = target.getAttribute("data-fill"); }
    }
    later();
  });
  // Enter in a one-line field saves nothing by accident (it would press the first button).
  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target && event.target.matches("input[type=text]")) {
      event.preventDefault();
    }
  });
  if (form.querySelector("fieldset.sheet-row")) { check(); }
})();
