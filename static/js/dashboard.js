// Draws the dashboard's charts from the figures in <script id="charts"
// type="application/json">, written by Django's json_script (no inline script:
// the content policy allows scripts from our own origin only).
(function () {
  "use strict";
  var source = document.getElementById("charts");
  if (!source || typeof Plotly === "undefined") {
    return;
  }
  var figures = JSON.parse(source.textContent);
  var config = { responsive: true, displaylogo: false };
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var figure = figures[element.dataset.chart];
    if (figure) {
      Plotly.newPlot(element, figure.data, figure.layout || {}, config);
    }
  });
  // A chart drawn inside a closed <details> has no width yet: fit it to its
  // place when the details open.
  document.querySelectorAll("details").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (details.open) {
        details.querySelectorAll("[data-chart]").forEach(function (element) {
          Plotly.Plots.resize(element);
        });
      }
    });
  });
})();
