/* Keyboard shortcuts for the screening page (the buttons work without it).
 * i include, x then 1-9/0 exclude with that reason (Enter: without one), m maybe,
 * r not retrieved, s study id, n note, u undo, j / ArrowRight next, k / ArrowLeft previous.
 * The server checks everything again; this file only saves keystrokes. */
(function () {
  "use strict";

  var welcome = document.getElementById("welcome");
  if (welcome) {
    window.location.replace(welcome.getAttribute("data-next") || "/");
    return;
  }

  var form = document.getElementById("decide");
  var undoForm = document.getElementById("undo");
  if (!form && !undoForm) { return; }
  function follow(id) { var a = document.getElementById(id); if (a) { window.location.href = a.href; } }
  if (!form) {  // the "nothing left" page, or a decision that is locked: undo and move on
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
      var b = undoForm.querySelector("button");
      if (event.key === "u" && b && !b.disabled) {
        event.preventDefault();
        b.click();
      } else if (event.key === "j" || event.key === "ArrowRight") {
        follow("next");
      } else if (event.key === "k" || event.key === "ArrowLeft") {
        follow("prev");
      }
    });
    return;
  }
  var hint = document.getElementById("keyhint");
  var reasons = document.getElementById("reasons");
  var fullText = form.getAttribute("data-stage") === "full_text";
  var excludeArmed = false;

  function say(text) { if (hint) { hint.textContent = text; } }
  function button(key) { return form.querySelector('button[data-key="' + key + '"]'); }
  function submitWith(key) { var b = button(key); if (b) { b.click(); } }
  function disarm() {
    excludeArmed = false;
    if (reasons) { reasons.classList.remove("armed"); }
    var b = button("x"); if (b) { b.classList.remove("armed"); }
    say("");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
    var target = event.target;
    if (target && target.matches && target.matches("textarea, select, input[type=text], input:not([type])")) {
      if (event.key === "Escape") { target.blur(); }
      return;
    }
    var key = event.key;
    if (excludeArmed) {
      event.preventDefault();
      if (/^[0-9]$/.test(key)) {
        var radio = form.querySelector('input[name="reason"][data-index="' + key + '"]');
        if (!radio) { say("No reason " + key + "; press another number or Esc."); return; }
        radio.checked = true;
        disarm();
        submitWith("x");
      } else if (key === "Enter") {
        disarm();
        submitWith("x");
      } else if (key === "Escape") {
        disarm();
      }
      return;
    }
    switch (key) {
      case "i":
        event.preventDefault();
        var study = document.getElementById("study_id");
        if (fullText && study && !study.value.trim()) {
          study.focus();
          say("Type the study id, then press Enter to include.");
          return;
        }
        submitWith("i");
        break;
      case "x":
        event.preventDefault();
        excludeArmed = true;
        if (reasons) { reasons.classList.add("armed"); }
        var xb = button("x"); if (xb) { xb.classList.add("armed"); }
        say(fullText ? "Exclude: press the reason's number (Esc cancels)."
                     : "Exclude: press the reason's number, Enter for none (Esc cancels).");
        break;
      case "m": event.preventDefault(); submitWith("m"); break;
      case "r": if (button("r")) { event.preventDefault(); submitWith("r"); } break;
      case "n": event.preventDefault(); document.getElementById("note").focus(); break;
      case "s":
        var sid = document.getElementById("study_id");
        if (sid) { event.preventDefault(); sid.focus(); }
        break;
      case "u":
        var undo = document.querySelector("#undo button");
        if (undo && !undo.disabled) { event.preventDefault(); undo.click(); }
        break;
      case "j": case "ArrowRight": event.preventDefault(); follow("next"); break;
      case "k": case "ArrowLeft": event.preventDefault(); follow("prev"); break;
      default: break;
    }
  });
})();
