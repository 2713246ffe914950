// The rule page's YAML editor: CodeMirror (vendored in /static/codemirror) in place of the
// textarea, which it keeps in sync so the form posts what is in the editor. The problems the
// server found (Check, Dry run, Save) are listed under #problems with their line; each is
// marked in the editor's gutter and its message shown under that line. A click on a listed
// problem puts the cursor there; typing checks again and the marks follow. Without
// CodeMirror the plain textarea still works.
"use strict";

// What is marked in the editor now, so a fresh check can take it away.
const marks = { lines: [], widgets: [] };

(function () {
  const area = document.querySelector("textarea[data-editor=yaml]");
  if (area && window.CodeMirror) {
    const editor = window.CodeMirror.fromTextArea(area, {
      mode: "yaml",
      lineNumbers: true,
      lineWrapping: true,  // a phone must not scroll sideways
      screenReaderLabel: area.getAttribute("aria-label") || "YAML",
      viewportMargin: Infinity,  // every line in the page, so the browser's find works
      tabSize: 2,
      indentUnit: 2,
      gutters: ["CodeMirror-linenumbers", "problem-gutter"],
      extraKeys: { Tab: (cm) => cm.execCommand("insertSoftTab") },  // YAML has no tabs
    });
    editor.on("change", () => editor.save());
    markProblems(editor);
    const box = document.getElementById("problems");
    if (box) checkWhileTyping(editor, box);
  }
  const here = document.querySelector("[data-scroll-here]");
  if (here) here.scrollIntoView({ block: "start" });
})();

function markProblems(editor) {
  editor.clearGutter("problem-gutter");
  marks.lines.forEach(([line, cls]) => editor.removeLineClass(line, "background", cls));
  marks.widgets.forEach((w) => w.clear());
  marks.lines = [];
  marks.widgets = [];
  document.querySelectorAll("#problems li[data-line]").forEach((item) => {
    const line = Number(item.dataset.line) - 1;
    if (!(line >= 0 && line < editor.lineCount())) return;
    const severity = item.classList.contains("warning") ? "warning" : "error";
    const marker = document.createElement("span");
    marker.className = `problem-marker ${severity}`;
    marker.title = item.textContent;
    marker.textContent = severity === "error" ? "●" : "▲";
    if (!editor.lineInfo(line).gutterMarkers) editor.setGutterMarker(line, "problem-gutter", marker);
    const handle = editor.addLineClass(line, "background", `has-${severity}`);
    marks.lines.push([handle, `has-${severity}`]);
    const message = document.createElement("div");
    message.className = `problem-inline ${severity}`;
    message.setAttribute("role", "note");
    message.textContent = item.textContent.trim();
    marks.widgets.push(editor.addLineWidget(line, message));
    item.tabIndex = 0;
    const go = () => {
      editor.focus();
      editor.setCursor({ line, ch: Math.max(0, Number(item.dataset.col || 1) - 1) });
      editor.scrollIntoView(null, 80);
    };
    item.addEventListener("click", go);
    item.addEventListener("keydown", (event) => { if (event.key === "Enter") go(); });
  });
}

// A moment after typing stops, the text is checked again (the same check as the Check
// button, over the console's JSON route) and the marks follow, so they never go stale.
function checkWhileTyping(editor, box) {
  let timer = null;
  let latest = 0;
  editor.on("change", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const mine = ++latest;
      const body = { source: editor.getValue() };
      if (box.dataset.rule) body.rule = box.dataset.rule;
      else body.new = true;
      const res = await fetch("/console/api/rules/check", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
        body: JSON.stringify(body),
      });
      if (!res.ok || mine !== latest) return;  // a newer check is on its way
      showProblems(box, (await res.json()).problems);
      markProblems(editor);
    }, 700);
  });
}

function showProblems(box, problems) {
  box.replaceChildren();
  const count = document.createElement("p");
  count.className = problems.length ? "error" : "ok";
  count.id = problems.length ? "problem-count" : "no-errors";
  count.textContent = problems.length ? `${problems.length} ${box.dataset.some}` : box.dataset.none;
  const list = document.createElement("ul");
  list.className = "problems";
  problems.forEach((p) => {
    const item = document.createElement("li");
    item.className = `problem ${p.severity}`;
    item.dataset.col = p.col;
    const where = p.line ? `${p.line}:${p.col} ` : "";
    if (p.line) item.dataset.line = p.line;
    item.textContent = `${where}${p.severity}: ${p.message}`;
    list.append(item);
  });
  box.append(count, list);
}
