/* The form editor (templates/console/form_editor.html), made nicer with JavaScript; every part
   works without it. A condition row shows the answer list or the typed answer that fits the
   question chosen; the preview's switches apply as soon as they change (the text view's
   CodeMirror is static/js/text-view.js). Runs again after each htmx swap. */
(function () {
  "use strict";

  function fitClause(row) {
    var question = row.querySelector("[data-clause-question]");
    var answer = row.querySelector("[data-clause-answer]");
    var typed = row.querySelector("[data-clause-typed]");
    if (!question || !answer || !typed) return;
    var option = question.options[question.selectedIndex];
    var kind = option ? option.getAttribute("data-kind") : "";
    var listed = kind === "choice" || kind === "choices" || kind === "yes_no";
    answer.hidden = !listed;
    typed.hidden = listed || !question.value;
    var select = answer.querySelector("select");
    select.querySelectorAll("optgroup").forEach(function (group) {
      var mine = group.getAttribute("data-for") === question.value;
      group.hidden = !mine;
      group.disabled = !mine;
    });
    var picked = select.options[select.selectedIndex];
    if (picked && picked.parentElement.tagName === "OPTGROUP" &&
        picked.parentElement.getAttribute("data-for") !== question.value) {
      select.value = "";
    }
  }

  function clauses(root) {
    root.querySelectorAll("[data-clause]").forEach(function (row) {
      fitClause(row);
      var question = row.querySelector("[data-clause-question]");
      if (question && !question.dataset.watched) {
        question.dataset.watched = "1";
        question.addEventListener("change", function () { fitClause(row); });
      }
    });
  }

  function previewSwitches(root) {
    root.querySelectorAll(".tb-preview-switches").forEach(function (form) {
      if (form.dataset.watched) return;
      form.dataset.watched = "1";
      form.addEventListener("change", function () { form.requestSubmit(); });
    });
  }

  function init(root) {
    clauses(root);
    previewSwitches(root);
  }

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:after:swap", function () { init(document); });
})();
