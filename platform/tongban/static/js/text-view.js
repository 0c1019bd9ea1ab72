/* The console's text views, made nicer with JavaScript: each text area marked data-code-editor
   gets CodeMirror over it (static/vendor/codemirror-form.js for "json", the form file;
   codemirror-yaml.js for "yaml", the flow and rules files), with the file format's schema
   from data-schema-url for completion, fetched once a page. The text area stays the field the
   form posts. Runs again after each htmx swap. */
(function () {
  "use strict";
  var schemas = {};

  function loadSchema(url) {
    if (!url) return Promise.resolve(null);
    if (!schemas[url]) {
      schemas[url] = fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    }
    return schemas[url];
  }

  function editorFor(area) {
    return area.dataset.codeEditor === "yaml" ? window.TongbanYamlEditor
                                              : window.TongbanCodeEditor;
  }

  function init(root) {
    root.querySelectorAll("textarea[data-code-editor]").forEach(function (area) {
      var editor = editorFor(area);
      if (!editor || area.dataset.attached) return;
      area.dataset.attached = "1";
      loadSchema(area.dataset.schemaUrl).then(function (schema) {
        editor.attach(area, schema);
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:after:swap", function () { init(document); });
})();
