// The form editor's text view (templates/console/_form_text.html): CodeMirror 6 over the
// plain text area (text-view.mjs). Marks: the server's problems and JSON syntax errors while
// typing; completion of the form file format's keys and values (forms/form.schema.json,
// fetched once).
import { basicSetup } from "codemirror";
import { json, jsonLanguage, jsonParseLinter } from "@codemirror/lang-json";
import { linter, lintGutter } from "@codemirror/lint";
import { jsonCompletion, stateExtensions } from "codemirror-json-schema";
import { parse as bestEffortParse } from "best-effort-json-parser";
import { attachView, serverDiagnostics } from "./text-view.mjs";

// The completion reads half-typed JSON with best-effort-json-parser, which reports what it
// skips on the console; text being typed is expected to be incomplete.
bestEffortParse.onExtraToken = () => {};

function attach(textarea, schema) {
  const problems = JSON.parse(textarea.dataset.problems || "[]");
  const original = textarea.value;
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
  ];
  if (schema) {
    extensions.push(jsonLanguage.data.of({ autocomplete: jsonCompletion() }),
                    stateExtensions(schema));
  }
  return attachView(textarea, extensions);
}

window.TongbanCodeEditor = { attach };
