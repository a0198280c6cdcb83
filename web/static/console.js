// Small helpers shared by every page; no framework, no build step.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // Ask before an action that cannot be undone (forms with data-confirm).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { ev.preventDefault(); }
  });
  window.gridConsole = { csrfToken: meta ? meta.getAttribute("content") : "" };
})();
