// What the console's two text views share (form-editor.mjs for JSON, yaml-editor.mjs for the
// flow and rules YAML): CodeMirror 6 over the plain text area, which stays the field the form
// posts and is kept in step with every change, labelled like it; the server's problems (line
// and column, as `tongban defs check` reports them) as lint marks; the editor's own words in
// the page's language (the text area's data-phrases, translated on the server).
import { EditorView } from "@codemirror/view";
import { EditorState } from "@codemirror/state";

export function serverDiagnostics(doc, problems) {
  const found = [];
  for (const problem of problems || []) {
    if (!problem.line || problem.line > doc.lines) continue;
    const line = doc.line(problem.line);
    const from = Math.min(line.from + Math.max((problem.column || 1) - 1, 0), line.to);
    found.push({ from, to: line.to > from ? line.to : from,
                 severity: problem.severity === "warning" ? "warning" : "error",
                 message: problem.message });
  }
  return found;
}

export function attachView(textarea, extensions) {
  const labelledBy = textarea.labels && textarea.labels[0] ? textarea.labels[0].id : "";
  const phrases = JSON.parse(textarea.dataset.phrases || "{}");
  const all = [
    ...extensions,
    EditorState.phrases.of(phrases),
    EditorView.updateListener.of((update) => {
      if (update.docChanged) textarea.value = update.state.doc.toString();
    }),
    EditorView.contentAttributes.of({
      "aria-labelledby": labelledBy,
      "aria-describedby": textarea.getAttribute("aria-describedby") || "",
      "aria-multiline": "true",
      role: "textbox",
    }),
    EditorView.lineWrapping,
  ];
  const holder = document.createElement("div");
  holder.className = "tb-code-editor";
  textarea.insertAdjacentElement("afterend", holder);
  textarea.hidden = true;
  return new EditorView({
    state: EditorState.create({ doc: textarea.value, extensions: all }),
    parent: holder,
  });
}
