/* The reporter's pages: a live character count under a text area (templates/_forms.html,
   `counter`), the receipt's copy button and the focus on a form's error summary. Every page
   works without it: the count then states the limit, the button stays hidden, and the
   summary has the autofocus attribute. The texts come from data attributes (translated). */
(function () {
  "use strict";

  var ANNOUNCE_AFTER_MS = 1000;

  /* Characters as the server counts them (code points, a line break as one). */
  function length(text) {
    return Array.from(text).length;
  }

  function startCounter(area) {
    var count = document.getElementById(area.id + "-count");
    if (!count) {
      return;
    }
    var data = count.dataset;
    var maximum = parseInt(area.dataset.countMax, 10);
    var number = new Intl.NumberFormat(document.documentElement.lang || undefined);
    /* The visible count changes as one types; screen readers hear it once typing pauses. */
    var shown = document.createElement("span");
    var spoken = document.createElement("span");
    var timer = null;
    shown.setAttribute("aria-hidden", "true");
    spoken.className = "visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    count.textContent = "";
    count.appendChild(shown);
    count.appendChild(spoken);

    function sentence() {
      var left = maximum - length(area.value);
      var over = left < 0;
      var amount = Math.abs(left);
      if (amount === 1) {
        return over ? data.oneOver : data.oneLeft;
      }
      return (over ? data.over : data.left).replace("{count}", number.format(amount));
    }

    function update() {
      var text = sentence();
      shown.textContent = text;
      count.classList.toggle("over", length(area.value) > maximum);
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { spoken.textContent = text; }, ANNOUNCE_AFTER_MS);
    }

    shown.textContent = sentence();
    count.classList.toggle("over", length(area.value) > maximum);
    area.addEventListener("input", update);
  }

  function select(element) {
    var range = document.createRange();
    var selection = window.getSelection();
    range.selectNodeContents(element);
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function startCopy(button) {
    var source = document.getElementById(button.dataset.select);
    var status = button.parentNode.querySelector(".copy-status");
    if (!source || !status) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = button.dataset.code;
      function selected() {
        select(source);
        status.textContent = button.dataset.selected;
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () {
          status.textContent = button.dataset.copied;
        }, selected);
      } else {
        selected();
      }
    });
  }

  function start() {
    var summary = document.getElementById("error-summary");
    document.querySelectorAll("textarea[data-count-max]").forEach(startCounter);
    document.querySelectorAll("button.copy[data-code]").forEach(startCopy);
    if (summary && document.activeElement !== summary) {
      summary.focus(); // where autofocus is not honoured
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
