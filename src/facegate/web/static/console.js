// Small helpers of the console pages (loaded as a file: the CSP allows no inline script).
// Every page works without it; it only adds a print button and live deadline countdowns.
"use strict";
(function () {
  function printButtons() {
    var buttons = document.querySelectorAll("[data-print]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].addEventListener("click", function () { window.print(); });
    }
  }
  // <time data-countdown datetime="ISO"> is rewritten every minute as "2 days 4 hours left"
  // or "late by 3 hours 5 minutes", in the words the server put in data-left / data-late
  // ({t} = the span) and the units of the page's language.
  var lang = document.documentElement.lang || "en";
  function unit(n, name) {
    return new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: "long" }).format(n);
  }
  function span(ms) {
    var m = Math.floor(Math.abs(ms) / 60000), d = Math.floor(m / 1440), h = Math.floor((m % 1440) / 60);
    return d > 0 ? unit(d, "day") + " " + unit(h, "hour") : unit(h, "hour") + " " + unit(m % 60, "minute");
  }
  function tick() {
    var els = document.querySelectorAll("time[data-countdown]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) { continue; }
      var left = due - Date.now();
      var words = el.getAttribute(left >= 0 ? "data-left" : "data-late") || "{t}";
      el.textContent = words.replace("{t}", span(left));
      el.classList.toggle("late", left < 0);
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    printButtons();
    tick();
    window.setInterval(tick, 60000);
  });
})();
