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
