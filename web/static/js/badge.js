// Badge sign-in: wedge scanners type the badge and press Enter, which submits the form.
// Keep the field focused so a scan always lands in it, even after a tap elsewhere.
(function () {
  "use strict";
  var field = document.getElementById("badge");
  if (!field) return;
  function refocus() { if (document.activeElement !== field) field.focus(); }
  document.addEventListener("click", function () { setTimeout(refocus, 0); });
  window.addEventListener("focus", refocus);
  refocus();
})();
