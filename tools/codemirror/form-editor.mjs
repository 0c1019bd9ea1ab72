// The form editor's text view (templates/console/_form_text.html): CodeMirror 6 over the
// plain text area, which stays the form's field and is kept in step with every change.
// Marks: the server's problems (line and column, as `tongban defs check` reports them) and
// JSON syntax errors while typing; completion of the form file format's keys and values
// (forms/form.schema.json, fetched once).
import { basicSetup } from "codemirror";
import { EditorView } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { json, jsonLanguage, jsonParseLinter } from "@codemirror/lang-json";
import { linter, lintGutter } from "@codemirror/lint";
import { jsonCompletion, stateExtensions } from "codemirror-json-schema";
import { parse as bestEffortParse } from "best-effort-json-parser";

// The completion reads half-typed JSON with best-effort-json-parser, which reports what it
// skips on the console; text being typed is expected to be incomplete.
bestEffortParse.onExtraToken = () => {};

function serverDiagnostics(doc, problems) {
  const found = [];
  for (const problem of problems) {
    if (!problem.line || problem.line > doc.lines) continue;
    const line = doc.line(problem.line);
    const from = Math.min(line.from + Math.max((problem.column || 1) - 1, 0), line.to);
    found.push({ from, to: line.to > from ? line.to : from, severity: "error",
                 message: problem.message, source: "tongban" });
  }
  return found;
}

function attach(textarea, schema) {
  const problems = JSON.parse(textarea.dataset.problems || "[]");
  const original = textarea.value;
  const labelledBy = textarea.labels && textarea.labels[0] ? textarea.labels[0].id : "";
  const extensions = [
    basicSetup,
    json(),
    lintGutter(),
    // Server problems belong to the text as saved: shown until the text changes.
    linter((view) => {
      const text = view.state.doc.toString();
      const marks = jsonParseLinter()(view);
      return text === original ? marks.concat(serverDiagnostics(view.state.doc, problems)) : marks;
    }, { delay: 300 }),
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
  if (schema) {
    extensions.push(jsonLanguage.data.of({ autocomplete: jsonCompletion() }),
                    stateExtensions(schema));
  }
  const holder = document.createElement("div");
  holder.className = "tb-code-editor";
  textarea.insertAdjacentElement("afterend", holder);
  textarea.hidden = true;
  const view = new EditorView({
    state: EditorState.create({ doc: original, extensions }),
    parent: holder,
  });
  return view;
}

window.TongbanCodeEditor = { attach };
