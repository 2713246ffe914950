// HR's task list: "select all" ticks every task box of the table, and choosing "dismiss"
// makes the reason required before the form is sent (the server checks it as well).
"use strict";

document.addEventListener("change", (event) => {
  const all = event.target.closest("input[data-select-all]");
  if (all) {
    const form = all.closest("form");
    form.querySelectorAll(`input[name="${all.dataset.selectAll}"]`).forEach((box) => {
      box.checked = all.checked;
    });
    return;
  }
  const choice = event.target.closest('#bulk-actions input[name="action"]');
  if (choice) {
    const reason = choice.form.querySelector('input[name="reason"]');
    if (reason) reason.required = choice.value === "dismiss" && choice.checked;
  }
});

// A section with data-load is filled from its URL once the page is shown (a rule's run
// history on the rule page); its link stays for a browser without script.
async function load(section) {
  const res = await fetch(section.dataset.load, { credentials: "same-origin" });
  if (!res.ok) return;
  const holder = document.createElement("div");
  holder.innerHTML = await res.text();
  const fresh = holder.firstElementChild;
  if (fresh) section.replaceWith(fresh);
}

document.querySelectorAll("section[data-load]").forEach((section) => { load(section); });
