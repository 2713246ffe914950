// Buttons with data-post send their item's fields as JSON (with the session's CSRF token),
// then the surrounding [data-refresh] region is fetched again and swapped in: the list
// updates in place, with no page reload and no front-end framework. A button outside any
// such region (a task's own page) reloads the page instead.
"use strict";

function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

async function refresh(region) {
  const res = await fetch(region.dataset.refresh, { credentials: "same-origin" });
  if (!res.ok) return;
  const holder = document.createElement("div");
  holder.innerHTML = await res.text();
  const fresh = holder.firstElementChild;
  if (fresh) region.replaceWith(fresh);
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-post]");
  if (!button) return;
  event.preventDefault();
  const item = button.closest("[data-item]");
  const body = {};
  if (button.dataset.action) body.action = button.dataset.action;
  if (item) {
    item.querySelectorAll("[data-field]").forEach((el) => {
      if (el.value !== "") body[el.dataset.field] = el.dataset.field === "hours" ? Number(el.value) : el.value;
    });
  }
  const errorBox = item ? item.querySelector(".error") : null;
  if (errorBox) errorBox.textContent = "";
  button.disabled = true;
  try {
    const res = await fetch(button.dataset.post, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body),
    });
    if (!res.ok) {
      let detail = res.statusText;
      try {
        const data = await res.json();
        detail = typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail);
      } catch (_) { /* not JSON */ }
      if (errorBox) errorBox.textContent = detail;
      return;
    }
    const region = button.closest("[data-refresh]");
    if (region) await refresh(region);
    else window.location.reload();  // a page of its own (one task): show its new state
  } finally {
    button.disabled = false;
  }
});

// The header's menu button (phones): the links fold under one button instead of wrapping
// the header onto four lines.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest(".menu-toggle");
  if (!toggle) return;
  const header = toggle.closest("header.top");
  const open = header.classList.toggle("open");
  toggle.setAttribute("aria-expanded", String(open));
});

// A table read on a phone becomes one card per row (app.css); each cell is labelled with
// its column's heading, copied here so the templates need not repeat them.
function labelCells(root) {
  root.querySelectorAll("table.grid").forEach((table) => {
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    if (!heads.length) return;
    table.classList.add("cards");
    table.querySelectorAll("tbody tr").forEach((row) => {
      [...row.children].forEach((cell, i) => {
        if (heads[i] && !cell.dataset.label) cell.dataset.label = heads[i];
      });
    });
  });
}
labelCells(document);
new MutationObserver((changes) => changes.forEach((c) => c.addedNodes.forEach((n) => {
  if (n.nodeType === 1) labelCells(n);
}))).observe(document.body, { childList: true, subtree: true });
