// skyline console: the only script, and every page works without it.
// - forms with data-confirm ask before submitting (disable a profile);
// - the label form's layer inputs are required, and enabled, only while
//   "With layers" is ticked: unticked, the browser neither checks nor sends
//   them, so "Not anomalous" never waits for a boundary it does not need;
// - the label form checks its layers before submitting, so an operator
//   sees what is wrong at once (the server checks again either way).
"use strict";

// Makes the layer inputs of `form` follow its "With layers" box.
function followLayersBox(form) {
  const box = form.querySelector("input[name=layers]");
  const fields = form.querySelector("fieldset.layer-fields");
  if (!box || !fields) return;
  fields.disabled = !box.checked;
  for (const input of fields.querySelectorAll("[data-layer-required]")) {
    input.required = box.checked;
  }
}

function followAllLayersBoxes() {
  document.querySelectorAll("form[data-validate-layers]").forEach(followLayersBox);
}

document.addEventListener("change", (event) => {
  if (event.target.matches && event.target.matches("input[name=layers]") && event.target.form) {
    followLayersBox(event.target.form);
  }
});

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", followAllLayersBoxes);
} else {
  followAllLayersBoxes();
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.confirm !== undefined && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  if (form.dataset.validateLayers !== undefined) {
    const problem = layersProblem(form);
    const box = form.querySelector("#layers-error");
    if (problem) {
      event.preventDefault();
      if (box) { box.textContent = problem; box.hidden = false; }
    } else if (box) {
      box.hidden = true;
    }
  }
}, true);

// What is wrong with the layers part of the label form, or null.
function layersProblem(form) {
  const on = form.querySelector("input[name=layers]");
  if (!on || !on.checked) return null;
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : "");
  const finite = (s) => s !== "" && Number.isFinite(Number(s));
  if (!finite(value("d_boundary"))) return "Layer D needs a numeric boundary.";
  if (!finite(value("e_boundary"))) return "Layer E needs a numeric boundary.";
  const times = (name) => /^[1-9][0-9]*$/.test(value(name));
  if (!times("e_times")) return "Layer E needs times in row, a whole number of at least 1.";
  if (value("d1_boundary") !== "" || value("d1_times") !== "") {
    if (!finite(value("d1_boundary"))) return "Layer D1 needs a numeric boundary (or leave D1 empty).";
    if (!times("d1_times")) return "Layer D1 needs times in row of at least 1 (or leave D1 empty).";
  }
  const hhmm = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
  for (const f of ["f1", "f2"]) {
    if (value(f) !== "" && !hhmm.test(value(f))) return `Layer ${f.toUpperCase()} must be a time of day HH:MM (UTC).`;
  }
  return null;
}
