// journeykit: a little JavaScript on top of pages that work without it.
(function () {
  "use strict";

  // Editor: live validation with the problems marked in the line-number gutter.
  function editor(form) {
    var area = form.querySelector("textarea");
    var gutter = form.querySelector(".gutter");
    var url = form.getAttribute("data-validate");
    var token = form.getAttribute("data-csrf");
    var timer = null;

    function problemsList() {
      var list = document.getElementById("problems");
      if (!list) {
        list = document.createElement("ul");
        list.id = "problems";
        form.parentNode.insertBefore(list, form);
      }
      return list;
    }

    function draw(problems) {
      var lines = area.value.split("\n").length;
      var bad = {};
      problems.forEach(function (p) { if (p.line) { bad[p.line] = true; } });
      gutter.textContent = "";
      for (var i = 1; i <= lines; i++) {
        var span = document.createElement("span");
        span.id = "L" + i;
        span.setAttribute("data-line", String(i));
        if (bad[i]) { span.className = "err"; }
        span.textContent = String(i);
        gutter.appendChild(span);
        gutter.appendChild(document.createTextNode("\n"));
      }
      var list = problemsList();
      list.textContent = "";
      list.hidden = problems.length === 0;
      problems.forEach(function (p) {
        var li = document.createElement("li");
        li.setAttribute("data-line", p.line ? String(p.line) : "");
        li.textContent = (p.line ? "line " + p.line + ": " : "") + (p.field ? p.field + ": " : "") + p.message;
        list.appendChild(li);
      });
      area.rows = Math.max(lines + 2, 10);
    }

    function check() {
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
        body: JSON.stringify({text: area.value})
      }).then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) { if (body) { draw(body.problems); } })
        .catch(function () { /* the Check button still works */ });
    }

    var first = gutter.querySelector(".err");
    if (first) {  // show the first problem's line, wherever it is in a long file
      var box = form.querySelector(".code");
      box.scrollTop = Math.max(0, first.offsetTop - box.clientHeight / 3);
    }

    area.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(check, 400);
    });
    area.addEventListener("keydown", function (e) {
      if (e.key === "Tab") {  // two spaces, as YAML wants
        e.preventDefault();
        area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
      }
    });
  }

  // Import job: poll until done, then reload to show the report and the rejects.
  function job(box) {
    if (box.getAttribute("data-state") !== "running") { return; }
    var url = box.getAttribute("data-job");
    var bar = box.querySelector("progress");
    function poll() {
      fetch(url, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (j) {
          if (j.state !== "running") { window.location.reload(); return; }
          if (bar) { bar.value = j.percent; }
          setTimeout(poll, 500);
        })
        .catch(function () { setTimeout(poll, 2000); });
    }
    setTimeout(poll, 300);
  }

  // Builder: a rule's match counts, refreshed as it is edited (the buttons refresh them too).
  function builder(form) {
    var url = form.getAttribute("data-counts-url");
    var token = form.getAttribute("data-csrf");
    form.querySelectorAll("fieldset[data-rule]").forEach(function (box) {
      var prefix = box.getAttribute("data-rule") + ".";
      var out = box.querySelector("[data-counts]");
      var timer = null;
      function count() {
        var rule = {};
        box.querySelectorAll("[name]").forEach(function (el) {
          if (el.name.indexOf(prefix) === 0) { rule[el.name.slice(prefix.length)] = el.value; }
        });
        fetch(url, {
          method: "POST",
          credentials: "same-origin",
          headers: {"Content-Type": "application/json", "X-CSRF-Token": token},
          body: JSON.stringify({rule: rule})
        }).then(function (r) { return r.ok ? r.json() : null; })
          .then(function (body) {
            if (!body) { return; }
            out.textContent = body.problem ? "Cannot count yet: " + body.problem :
              "Matches " + body.events.toLocaleString("en") + " events from " +
              body.customers.toLocaleString("en") + " customers.";
          })
          .catch(function () { /* the buttons still refresh the counts */ });
      }
      function later() { clearTimeout(timer); timer = setTimeout(count, 300); }
      box.addEventListener("input", later);
      box.addEventListener("change", later);
    });
  }

  // A select that shows a group of controls for one of its values (the funnel's ClickHouse
  // modes); a hidden group is disabled too, so its controls are not sent.
  function shows(select) {
    var box = document.getElementById(select.getAttribute("data-shows"));
    if (!box) { return; }
    select.addEventListener("change", function () {
      var on = select.value === select.getAttribute("data-when");
      box.hidden = !on;
      box.disabled = !on;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-shows]").forEach(shows);
    document.querySelectorAll("form.builder").forEach(builder);
    document.querySelectorAll("form.editor").forEach(editor);
    var box = document.getElementById("job");
    if (box) { job(box); }
  });
})();
