/* Progressive enhancement for generated form pages. The pages work without this file; it only
   (1) shows and hides questions as answers change, using the same JsonLogic rules the server
   applies (vendored json-logic.js, global `jsonLogic`); (2) shows calculated values; (3) moves
   focus to the error summary; (4) adds type-to-filter to long lists; (5) keeps what is typed
   while an inline check is on its way. The server stays the authority: it re-applies every
   rule when the page is sent. */
(function () {
  "use strict";

  function setPath(target, name, value) {
    var parts = name.split(".");
    var node = target;
    for (var i = 0; i < parts.length - 1; i++) {
      var key = parts[i].replace(/~1/g, ".").replace(/~0/g, "~");
      var nextIsIndex = /^\d+$/.test(parts[i + 1]);
      if (node[key] === undefined || node[key] === null || typeof node[key] !== "object") {
        node[key] = nextIsIndex ? [] : {};
      }
      node = node[key];
    }
    node[parts[parts.length - 1].replace(/~1/g, ".").replace(/~0/g, "~")] = value;
  }

  function typed(input, value) {
    if (value === "true") return true;
    if (value === "false") return false;
    var mode = input.getAttribute("inputmode");
    if ((mode === "numeric" || mode === "decimal") && /^[+-]?(\d+\.?\d*|\.\d+)$/.test(value)) {
      return Number(value);
    }
    return value;
  }

  // The answers on this page, as the server would read them (disabled inputs are not sent).
  function collect(form, base) {
    var data = JSON.parse(JSON.stringify(base || {}));
    var multi = {};
    var elements = form.elements;
    for (var i = 0; i < elements.length; i++) {
      var el = elements[i];
      if (!el.name || el.disabled || el.name === "csrf_token" || el.name === "action") continue;
      if (el.type === "file" || el.type === "submit") continue;
      if ((el.type === "radio" || el.type === "checkbox") && !el.checked) continue;
      var name = el.name, part = null;
      var colon = name.indexOf(":");
      if (colon > -1) { part = name.slice(colon + 1); name = name.slice(0, colon); }
      if (part) {
        multi[name] = multi[name] || {};
        multi[name][part] = el.value;
        continue;
      }
      if (el.value === "") continue;
      var group = form.querySelectorAll('input[type="checkbox"][name="' + CSS.escape(el.name) + '"]');
      if (el.type === "checkbox" && group.length > 1) {
        multi[name] = multi[name] || [];
        multi[name].push(typed(el, el.value));
        continue;
      }
      setPath(data, name, typed(el, el.value));
    }
    Object.keys(multi).forEach(function (name) {
      var value = multi[name];
      if (!Array.isArray(value) && "province" in value) {
        // A region picker: the deepest list chosen so far.
        value = value.district || value.city || value.province;
        if (!value) return;
      } else if (!Array.isArray(value)) {
        if (!value.year || !value.month || !value.day) return;
        var pad = function (s) { return ("0" + s).slice(-2); };
        value = value.year + "-" + pad(value.month) + "-" + pad(value.day);
      }
      setPath(data, name, value);
    });
    return data;
  }

  function toggle(group, visible) {
    group.hidden = !visible;
    group.removeAttribute("data-tb-off");  // drawn for pages without JavaScript; hidden now
    var inputs = group.querySelectorAll("input, select, textarea, button");
    for (var i = 0; i < inputs.length; i++) {
      inputs[i].disabled = !visible || inputs[i].hasAttribute("data-tb-empty");
    }
  }

  // The names of the answers the server refused (marked invalid on this page).
  function refused(form) {
    var names = [];
    for (var i = 0; i < form.elements.length; i++) {
      var el = form.elements[i];
      if (!el.name) continue;
      var group = el.closest(".tb-form-group");
      if (el.getAttribute("aria-invalid") === "true" ||
          (group && group.classList.contains("tb-form-group--error"))) {
        names.push(el.name.split(":")[0]);
      }
    }
    return names;
  }

  // The answers a rule reads through "var" (and "missing"), like the server's referenced_vars.
  function reads(rule, found) {
    if (Array.isArray(rule)) {
      rule.forEach(function (part) { reads(part, found); });
    } else if (rule && typeof rule === "object") {
      Object.keys(rule).forEach(function (op) {
        var args = rule[op];
        if (op === "var" || op === "missing") {
          [].concat(op === "var" && Array.isArray(args) ? args.slice(0, 1) : args).forEach(function (name) {
            if (typeof name === "string" || typeof name === "number") found.push(String(name));
          });
        }
        reads(args, found);
      });
    }
    return found;
  }

  function overlaps(a, b) {
    return a === b || a.indexOf(b + ".") === 0 || b.indexOf(a + ".") === 0;
  }

  function apply(form, config) {
    if (!window.jsonLogic) return;
    var data = collect(form, config ? config.answers : {});
    var rules = config ? config.rules : [];
    // As on the server, a value is never calculated from a refused answer: it stays empty
    // until the answer is accepted (the inline check replaces the question when it is).
    var bad = refused(form), empty = {}, grew = bad.length > 0;
    while (grew) {  // and neither from a value calculated from one
      grew = false;
      rules.forEach(function (rule) {
        if (rule.action !== "set" || empty[rule.target]) return;
        if (reads([rule.when, rule.value], []).some(function (name) {
          return bad.some(function (b) { return overlaps(name, b); });
        })) {
          empty[rule.target] = true;
          bad.push(rule.target);
          grew = true;
        }
      });
    }
    rules.forEach(function (rule) {
      if (rule.action !== "set") return;
      var tainted = !!empty[rule.target];
      if (!tainted && rule.when && !jsonLogic.truthy(jsonLogic.apply(rule.when, data))) return;
      var value = tainted ? null : jsonLogic.apply(rule.value, data);
      setPath(data, rule.target, value);
      var shown = form.querySelector('[data-tb-calc="' + CSS.escape(rule.target) + '"]');
      if (shown) shown.textContent = value === null || value === undefined ? "—" : String(value);
    });
    var shownBy = {}, hiddenBy = {};
    rules.forEach(function (rule) {
      if (rule.action !== "show" && rule.action !== "hide") return;
      var hit = jsonLogic.truthy(jsonLogic.apply(rule.when, data));
      if (rule.action === "show") shownBy[rule.target] = shownBy[rule.target] || hit;
      if (rule.action === "hide" && hit) hiddenBy[rule.target] = true;
    });
    form.querySelectorAll("[data-tb-key]").forEach(function (group) {
      var key = group.getAttribute("data-tb-key");
      var visible = !(key in shownBy && !shownBy[key]) && !hiddenBy[key];
      if (group.hidden === visible) toggle(group, visible);
    });
    // Conditional schema fields: the first matching alternative with a name is shown.
    var taken = {};
    form.querySelectorAll("[data-tb-when]").forEach(function (group) {
      var name = group.getAttribute("data-tb-group");
      var rule = JSON.parse(group.getAttribute("data-tb-when"));
      var visible = !taken[name] && jsonLogic.truthy(jsonLogic.apply(rule, data));
      if (visible) taken[name] = true;
      if (group.hidden === visible) toggle(group, visible);
    });
  }

  function enhanceAutocomplete(select) {
    if (select.dataset.tbEnhanced) return;
    select.dataset.tbEnhanced = "1";
    var filter = document.createElement("input");
    filter.type = "text";
    filter.className = "tb-input tb-autocomplete__filter";
    filter.setAttribute("aria-controls", select.id);
    filter.setAttribute("aria-label", (select.labels && select.labels[0] ? select.labels[0].textContent : "") + " ⌕");
    filter.autocomplete = "off";
    select.parentNode.insertBefore(filter, select);
    filter.addEventListener("input", function () {
      var needle = filter.value.trim().toLowerCase();
      var first = null;
      for (var i = 0; i < select.options.length; i++) {
        var option = select.options[i];
        var match = !option.value || option.text.toLowerCase().indexOf(needle) > -1;
        option.hidden = !match;
        if (match && option.value && !first) first = option;
      }
      if (first && needle) select.value = first.value;
    });
  }

  // A file question offering the applicant's stored material: the file chooser is out of the
  // way while a stored one is chosen (without JavaScript both show and the choice decides).
  function syncMaterialChoice(choice) {
    var group = choice.closest(".tb-form-group");
    var chooser = group && group.querySelector("input.tb-file-upload");
    var picked = choice.querySelector("input[type=radio]:checked");
    if (chooser) chooser.hidden = !!picked && picked.value !== "upload";
  }

  function init(root) {
    root.querySelectorAll("[data-tb-material-choice]").forEach(function (choice) {
      syncMaterialChoice(choice);
      if (!choice.dataset.tbBound) {
        choice.dataset.tbBound = "1";
        choice.addEventListener("change", function () { syncMaterialChoice(choice); });
      }
    });
    var summary = root.querySelector("[data-tb-error-summary]");
    if (summary && !summary.dataset.tbFocused) {
      summary.dataset.tbFocused = "1";
      summary.focus();
    }
    root.querySelectorAll("select[data-tb-autocomplete]").forEach(enhanceAutocomplete);
    // With htmx the region lists fill themselves; the no-JavaScript "选择下一级" button would
    // only get in the way (and be the form's default button for the Enter key).
    if (window.htmx) {
      root.querySelectorAll("[data-tb-region-next]").forEach(function (b) { b.remove(); });
    }
    root.querySelectorAll("form[data-tb-form]").forEach(function (form) {
      var script = form.querySelector("script[data-tb-logic]");
      var config = script ? JSON.parse(script.textContent) : null;
      var run = function () { apply(form, config); };
      if (!form.dataset.tbBound) {
        form.dataset.tbBound = "1";
        form.addEventListener("change", run);
        form.addEventListener("input", run);
      }
      if (config || form.querySelector("[data-tb-when]")) run();
    });
  }

  // Region pickers: a list's hx-get has __code__ where the chosen code goes. Choosing nothing
  // asks nothing: the lists below are emptied here.
  function emptyBelow(select) {
    var below = document.querySelector(select.getAttribute("hx-target"));
    if (!below) return;
    below.querySelectorAll("select[data-tb-region]").forEach(function (list) {
      while (list.options.length > 1) list.remove(1);
      list.options[0].textContent = list.getAttribute("data-tb-waiting") || list.options[0].textContent;
      list.value = "";
      list.disabled = true;
      list.setAttribute("data-tb-empty", "");
    });
  }

  document.addEventListener("htmx:config:request", function (evt) {
    evt.detail.ctx.tbSentAt = clock;  // for keepTyped: what was typed after this left
    var select = evt.target;
    if (!select.matches || !select.matches("select[data-tb-region]")) return;
    var request = evt.detail.ctx.request;
    // The lists below belong to the old choice: out of reach until the new ones come.
    emptyBelow(select);
    if (!select.value) {
      evt.preventDefault();
      return;
    }
    request.action = request.action.replace("__code__", encodeURIComponent(select.value));
    if (request.body && request.body.delete) request.body.delete(select.name);
  });

  // Inline checks (the form groups morphed in by htmx) answer while the person may already be
  // typing elsewhere. An answer must never overwrite a box the person is in or has typed into
  // since the check left: `clock` counts edits, each control's name keeps the time of its last
  // edit, and the morph is told to leave such a control's value, checked and selected alone.
  var clock = 0, edited = {}, swapSentAt = null;

  function stamp(evt) {
    var el = evt.target;
    if (el && el.name && el.form) edited[el.name] = ++clock;
  }
  document.addEventListener("input", stamp, true);
  document.addEventListener("change", stamp, true);

  function keepTyped(el) {
    var control = el.tagName === "OPTION" ? el.closest("select") : el;
    if (!control || !control.name) return false;
    if (control === document.activeElement) return true;
    return swapSentAt !== null && (edited[control.name] || 0) > swapSentAt;
  }

  document.addEventListener("htmx:before:swap", function (evt) {
    var sent = evt.detail.ctx && evt.detail.ctx.tbSentAt;
    swapSentAt = typeof sent === "number" ? sent : null;
  });
  document.addEventListener("htmx:after:swap", function () { swapSentAt = null; });

  if (window.htmx && htmx.registerExtension) {
    htmx.registerExtension("tb-keep-typed", {
      htmx_before_morph_attr: function (el, detail) {
        var name = detail.attrName;
        if ((name === "value" || name === "checked" || name === "selected") && keepTyped(el)) {
          return false;
        }
      },
      htmx_before_morph_node: function (el, detail) {
        // A text area's value follows its text (defaultValue) in a morph: keep the old text.
        if (el.tagName === "TEXTAREA" && keepTyped(el)) {
          detail.newNode.defaultValue = el.defaultValue;
        }
      }
    });
  }

  // A date is three boxes: it is checked when focus leaves all three (hx-trigger "tbleave"),
  // not on leaving the year for the month, where "enter a month" would only get in the way.
  document.addEventListener("change", function (evt) {
    var box = evt.target.closest && evt.target.closest(".tb-date-input");
    if (box) box.setAttribute("data-tb-changed", "");
  });
  document.addEventListener("focusout", function (evt) {
    var box = evt.target.closest && evt.target.closest(".tb-date-input");
    if (!box || !box.hasAttribute("data-tb-changed")) return;
    if (evt.relatedTarget && box.contains(evt.relatedTarget)) return;
    box.removeAttribute("data-tb-changed");
    if (window.htmx) htmx.trigger(evt.target, "tbleave");
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // htmx 4 swaps: re-run on the new content.
  document.addEventListener("htmx:after:swap", function () { init(document); });
  document.addEventListener("htmx:afterSwap", function () { init(document); });
})();
