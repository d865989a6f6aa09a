// Keeps the importance allocation's running total current as the person types.
// The server renders the same total and checks it on sending, so the form works
// without this script.
(function () {
  "use strict";
  document.querySelectorAll("[data-importance]").forEach(function (box) {
    var inputs = box.querySelectorAll("input[data-points]");
    var total = box.querySelector("[data-importance-total]");
    var left = box.querySelector("[data-importance-left]");
    if (!inputs.length || !total) {
      return;
    }
    function points(n) {
      return n === 1 ? "1 point" : n + " points";
    }
    function update() {
      var sum = 0;
      inputs.forEach(function (input) {
        var value = input.value.trim();
        if (/^\d+$/.test(value)) {
          sum += parseInt(value, 10);
        }
      });
      total.textContent = String(sum);
      if (left) {
        var rest = 100 - sum;
        left.textContent =
          rest > 0
            ? " \u2014 " + points(rest) + " still to give"
            : rest < 0
              ? " \u2014 " + points(-rest) + " too many"
              : " \u2014 done";
      }
    }
    box.addEventListener("input", update);
  });
})();
