// A consent receipt's QR code opens /portal#code=XXXXX-...: the fragment never leaves the
// browser. Move the code into the form and out of the address bar (and its history) at once.
"use strict";
(function () {
  var match = /^#code=([0-9A-Za-z-]{1,64})$/.exec(window.location.hash);
  if (!match) { return; }
  history.replaceState(null, "", window.location.pathname + window.location.search);
  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("code");
    if (input) { input.value = match[1].toUpperCase(); input.focus(); }
  });
})();
