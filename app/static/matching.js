/* The report form: while a reporter types, show the open known issues that look like the
   text (their title and status only) with a "This is my problem too" toggle, which sets the
   hidden known_issue_id field. Without JavaScript the form works as before.
   The texts come from the #matching-issues element's data attributes (translated there). */
(function () {
  "use strict";

  var DEBOUNCE_MS = 500;

  function start() {
    var box = document.getElementById("matching-issues");
    var form = box && box.closest("form");
    var text = form && form.elements.namedItem("text");
    var choice = form && form.elements.namedItem("known_issue_id");
    var announcer = document.getElementById("matching-status");
    if (!text || !choice || !announcer || !window.fetch) {
      return;
    }
    var list = box.querySelector("ul");
    var data = box.dataset;
    var minimum = parseInt(data.min, 10);
    var maximum = parseInt(data.max, 10);
    var timer = null;
    var pending = null;
    var lastQuery = null;
    var shown = [];

    function say(message) {
      announcer.textContent = message;
    }

    function chosenTitle() {
      var issue = shown.filter(function (item) { return String(item.id) === choice.value; })[0];
      return issue ? issue.title : "";
    }

    function render() {
      list.textContent = "";
      shown.forEach(function (issue) {
        var item = document.createElement("li");
        var title = document.createElement("span");
        var status = document.createElement("span");
        var button = document.createElement("button");
        var pressed = String(issue.id) === choice.value;
        title.className = "title";
        title.textContent = issue.title;
        status.className = "tag";
        status.textContent = issue.status;
        button.type = "button";
        button.className = "same-problem";
        button.textContent = data.choose;
        button.setAttribute("aria-pressed", pressed ? "true" : "false");
        button.addEventListener("click", function () { toggle(issue); });
        item.appendChild(title);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(status);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(button);
        if (pressed) {
          var note = document.createElement("p");
          note.className = "hint";
          note.textContent = data.chosenNote;
          item.appendChild(note);
        }
        list.appendChild(item);
      });
      box.hidden = shown.length === 0;
    }

    function toggle(issue) {
      var wasChosen = String(issue.id) === choice.value;
      choice.value = wasChosen ? "" : String(issue.id);
      render();
      var button = list.querySelectorAll("button.same-problem")[shown.indexOf(issue)];
      if (button) {
        button.focus();
      }
      say(wasChosen ? data.unchosen : data.chosen.replace("{title}", issue.title));
    }

    function show(issues) {
      var before = choice.value;
      shown = issues;
      if (before && !chosenTitle()) {
        choice.value = ""; // never a choice the reporter cannot see
      }
      render();
      if (issues.length === 0) {
        say(before && !choice.value ? data.unchosen : "");
      } else {
        say((issues.length === 1 ? data.foundOne : data.foundMany)
          .replace("{count}", String(issues.length)));
      }
    }

    function lookUp() {
      var query = text.value.trim().slice(0, maximum);
      if (query.length < minimum) {
        lastQuery = null;
        if (shown.length) {
          show([]);
        }
        return;
      }
      if (query === lastQuery) {
        return;
      }
      lastQuery = query;
      if (pending) {
        pending.abort();
      }
      pending = new AbortController();
      fetch(data.url + "?text=" + encodeURIComponent(query), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" },
        signal: pending.signal
      }).then(function (response) {
        if (!response.ok) {
          throw new Error(String(response.status)); // throttled or refused: show nothing new
        }
        return response.json();
      }).then(function (body) {
        show(body.issues || []);
      }).catch(function () { /* aborted by newer typing, or offline: keep what is shown */ });
    }

    text.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(lookUp, DEBOUNCE_MS);
    });
    if (text.value.trim().length >= minimum) {
      lookUp(); // the form came back with an error: show the matches (and the choice) again
    } else {
      choice.value = "";
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
