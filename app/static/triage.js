/* The report page's keyboard shortcuts and the two helper buttons of the decision form.
   j: next report, k: previous report, c: tick the model's categories, a: assign to me,
   s or Ctrl+Enter: save and go to the next report. Never while typing in a field (except
   Ctrl+Enter inside the decision form). Without JavaScript the page works as before: the
   helper buttons stay hidden and the links and buttons do the same. */
(function () {
  "use strict";

  function typing(target) {
    return target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName);
  }

  function start() {
    var form = document.getElementById("decision");
    if (!form) {
      return;
    }
    var modelCategories = (form.dataset.modelCategories || "").split(" ");

    function confirmModel() {
      form.querySelectorAll("input[name=categories]").forEach(function (box) {
        box.checked = modelCategories.indexOf(box.value) !== -1;
      });
    }

    function assignMe() {
      form.elements.namedItem("assignee").value = form.dataset.me;
    }

    function saveAndNext() {
      form.requestSubmit(form.elements.namedItem("save_next"));
    }

    function follow(rel) {
      var link = document.querySelector("a[rel=" + rel + "]");
      if (link) {
        window.location.assign(link.href);
      }
    }

    var actions = {j: function () { follow("next"); }, k: function () { follow("prev"); },
                   c: confirmModel, a: assignMe, s: saveAndNext};

    document.querySelectorAll("[data-shortcut-button]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", actions[button.dataset.shortcutButton]);
    });

    document.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        if (!typing(event.target) || form.contains(event.target)) {
          event.preventDefault();
          saveAndNext();
        }
        return;
      }
      var action = actions[event.key];
      if (!action || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
        return;
      }
      event.preventDefault();
      action();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
