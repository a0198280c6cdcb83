(function () {
  "use strict";
  var button = document.getElementById("print-agenda");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
})();
