/* Warn before a signed-in session ends for inactivity, and let the person extend it.
   No pop-up: an inline notice at the top of the page, announced to screen readers. */
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-session-idle-seconds") || "0", 10);
  if (!idle) { return; }
  var warnBefore = Math.min(300, Math.floor(idle / 4));
  var notice = document.getElementById("session-timeout");
  var timer = null;

  function schedule() {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(function () {
      notice.hidden = false;
      var button = notice.querySelector("button");
      if (button) { button.focus(); }
    }, (idle - warnBefore) * 1000);
  }

  notice.querySelector("button").addEventListener("click", function (event) {
    event.preventDefault();
    var token = notice.querySelector("input[name=csrf_token]").value;
    fetch(notice.querySelector("form").action, {
      method: "POST", credentials: "same-origin",
      headers: {"X-CSRFToken": token, "HX-Request": "true"}
    }).then(function (response) {
      if (response.ok) { notice.hidden = true; schedule(); }
    });
  });
  schedule();
})();
