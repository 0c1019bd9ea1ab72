// The flow and rules editors' text views (templates/console/flow_editor.html and
// rules_editor.html): CodeMirror 6 with YAML over the plain text area (text-view.mjs).
// Completion and hover help from the file format's JSON Schema (schemas/flow.schema.json or
// rules.schema.json, fetched once) through codemirror-json-schema's YAML mode. Marks: every
// problem the server's checks find (`tongban defs check`, in the page's language): those of the
// file as saved at first, then those of the text as typed, checked on the server after a pause
// (the text area's data-check-url; nothing is saved by a check).
import { basicSetup } from "codemirror";
import { hoverTooltip } from "@codemirror/view";
import { yaml, yamlLanguage } from "@codemirror/lang-yaml";
import { linter, lintGutter } from "@codemirror/lint";
import { stateExtensions } from "codemirror-json-schema";
import { yamlCompletion, yamlSchemaHover } from "codemirror-json-schema/yaml";
import { attachView, serverDiagnostics } from "./text-view.mjs";

function serverCheck(textarea) {
  const original = textarea.value;
  const saved = JSON.parse(textarea.dataset.problems || "[]");
  const url = textarea.dataset.checkUrl;
  const token = textarea.form && textarea.form.elements.namedItem("csrf_token");
  return async (view) => {
    const doc = view.state.doc;
    const text = doc.toString();
    if (text === original) return serverDiagnostics(doc, saved);
    if (!url) return [];
    const body = new URLSearchParams({ text, csrf_token: token ? token.value : "" });
    try {
      const answer = await fetch(url, { method: "POST", body, credentials: "same-origin",
                                        headers: { Accept: "application/json" } });
      if (!answer.ok) return [];
      return serverDiagnostics(doc, (await answer.json()).problems);
    } catch (error) {
      return [];  // offline or the server busy: no marks rather than wrong ones
    }
  };
}

function attach(textarea, schema) {
  const extensions = [
    basicSetup,
    yaml(),
    lintGutter(),
    linter(serverCheck(textarea), { delay: 700 }),
  ];
  if (schema) {
    extensions.push(yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
                    hoverTooltip(yamlSchemaHover()), stateExtensions(schema));
  }
  return attachView(textarea, extensions);
}

window.TongbanYamlEditor = { attach };
