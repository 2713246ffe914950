// The rule page's YAML editor: CodeMirror (vendored in /static/codemirror) in place of the
// textarea, which it keeps in sync so the form posts what is in the editor. The problems the
// server found (Check, Dry run, Save) are listed under #problems with their line; each is
// marked in the editor's gutter and its message shown under that line. A click on a listed
// problem puts the cursor there. Without CodeMirror the plain textarea still works.
"use strict";

(function () {
  const area = document.querySelector("textarea[data-editor=yaml]");
  if (area && window.CodeMirror) {
    const editor = window.CodeMirror.fromTextArea(area, {
      mode: "yaml",
      lineNumbers: true,
      lineWrapping: true,  // a phone must not scroll sideways
      viewportMargin: Infinity,  // every line in the page, so the browser's find works
      tabSize: 2,
      indentUnit: 2,
      gutters: ["CodeMirror-linenumbers", "problem-gutter"],
      extraKeys: { Tab: (cm) => cm.execCommand("insertSoftTab") },  // YAML has no tabs
    });
    editor.on("change", () => editor.save());
    markProblems(editor);
  }
  const here = document.querySelector("[data-scroll-here]");
  if (here) here.scrollIntoView({ block: "start" });
})();

function markProblems(editor) {
  document.querySelectorAll("#problems li[data-line]").forEach((item) => {
    const line = Number(item.dataset.line) - 1;
    if (!(line >= 0 && line < editor.lineCount())) return;
    const severity = item.classList.contains("warning") ? "warning" : "error";
    const marker = document.createElement("span");
    marker.className = `problem-marker ${severity}`;
    marker.title = item.textContent;
    marker.textContent = severity === "error" ? "●" : "▲";
    if (!editor.lineInfo(line).gutterMarkers) editor.setGutterMarker(line, "problem-gutter", marker);
    editor.addLineClass(line, "background", `has-${severity}`);
    const message = document.createElement("div");
    message.className = `problem-inline ${severity}`;
    message.setAttribute("role", "note");
    message.textContent = item.textContent.trim();
    editor.addLineWidget(line, message);
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
