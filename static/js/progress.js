// Keeps the "n of N answered" line of a questionnaire form current as answers
// are chosen. The server renders the same numbers, so the page works without it.
(function () {
  "use strict";
  document.querySelectorAll("form[data-progress-form]").forEach(function (form) {
    var answered = form.querySelector("[data-progress-answered]");
    var bar = form.querySelector("[data-progress-bar]");
    var items = form.querySelectorAll("fieldset.answer-item");
    // The importance allocation is not an item.
    if (!answered || !items.length) {
      return;
    }
    function update() {
      var count = 0;
      items.forEach(function (item) {
        // An item with several ratings counts once every rating has an answer.
        var ratings = item.querySelectorAll("fieldset.rating");
        var done = ratings.length
          ? Array.prototype.every.call(ratings, function (rating) {
              return rating.querySelector("input[type=radio]:checked");
            })
          : item.querySelector("input[type=radio]:checked");
        if (done) {
          count += 1;
        }
      });
      answered.textContent = String(count);
      if (bar) {
        bar.setAttribute("aria-valuenow", String(count));
        var inner = bar.querySelector(".progress-bar");
        if (inner) {
          inner.style.width = Math.round((100 * count) / items.length) + "%";
        }
      }
    }
    form.addEventListener("change", update);
  });
})();

// After a refused submit, move the keyboard focus to the summary of problems so
// that its links to each question are the next thing reached.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();

// Remember the statement the person is at, so that a saved draft brings them back
// to it (the server falls back to the first unanswered one without this).
(function () {
  "use strict";
  document.querySelectorAll("form[data-progress-form]").forEach(function (form) {
    var field = form.querySelector("[data-resume-at]");
    if (!field) {
      return;
    }
    function remember(event) {
      var item = event.target.closest("fieldset.answer-item");
      if (item && item.dataset.itemId) {
        field.value = item.dataset.itemId;
      }
    }
    form.addEventListener("focusin", remember);
    form.addEventListener("change", remember);
  });
})();
