// wht pages: submit the as-of / known-at pickers when they change, and step through
// the audit replay. (The program page's chart is SVG drawn by the server.)
"use strict";

function autosubmit() {
  document.querySelectorAll("form[data-autosubmit]").forEach((form) => {
    form.querySelectorAll("input").forEach((input) => {
      input.addEventListener("change", () => {
        // A date picker fires "change" for each part typed: wait for a whole value.
        if (input.value === "" || input.checkValidity()) form.requestSubmit();
      });
    });
  });
}

function stepper() {
  const bar = document.querySelector("[data-stepper]");
  if (!bar) return;
  const steps = Array.from(document.querySelectorAll(".step"));
  const range = bar.querySelector("input[type=range]");
  const position = bar.querySelector("output");
  let current = 1;

  function show(n, focus, remember = true) {
    current = Math.min(Math.max(n, 1), steps.length);
    steps.forEach((s, i) => { s.hidden = i + 1 !== current; });
    range.value = String(current);
    position.textContent = `Event ${current} of ${steps.length}`;
    bar.querySelector("[data-go=prev]").disabled = current === 1;
    bar.querySelector("[data-go=first]").disabled = current === 1;
    bar.querySelector("[data-go=next]").disabled = current === steps.length;
    bar.querySelector("[data-go=last]").disabled = current === steps.length;
    // Not on the first showing: a fragment set before "load" makes the browser scroll to it.
    if (remember) history.replaceState(null, "", `#step-${current}`);
    if (focus) steps[current - 1].querySelector("h3").focus();
  }

  steps.forEach((s) => s.querySelector("h3").setAttribute("tabindex", "-1"));
  bar.hidden = false;
  bar.addEventListener("click", (event) => {
    const go = event.target.closest("button")?.dataset.go;
    if (!go) return;
    show({ first: 1, prev: current - 1, next: current + 1, last: steps.length }[go], false);
  });
  range.addEventListener("input", () => show(Number(range.value), false));
  document.querySelectorAll("[data-jump]").forEach((link) => {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      show(Number(link.dataset.jump), true);
    });
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, select, textarea")) return;
    if (event.key === "ArrowRight") show(current + 1, false);
    if (event.key === "ArrowLeft") show(current - 1, false);
  });
  const wanted = /^#step-(\d+)$/.exec(location.hash);
  show(wanted ? Number(wanted[1]) : 1, false, false);
}

document.addEventListener("DOMContentLoaded", () => {
  autosubmit();
  stepper();
});
