/* The hotline call form (hotline/call_form.html): call timer, keyboard-only entry. Kept out of
   the page so the Content-Security-Policy can forbid inline scripts. */
(function () {
  "use strict";
  var form = document.getElementById("call-form");
  var timer = document.getElementById("call-timer");
  var t0 = Date.now();
  function pad(n) { return String(n).padStart(2, "0"); }
  function tick() {
    var s = Math.floor((Date.now() - t0) / 1000);
    timer.textContent = pad(Math.floor(s / 60)) + ":" + pad(s % 60);
  }
  tick();
  setInterval(tick, 1000);
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  form.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
      return;
    }
    var t = e.target;
    if (e.key === "Enter" && t.tagName === "INPUT" && t.type !== "submit") {
      e.preventDefault();  // no accidental save: Ctrl+Enter or the button saves
      if (t.type === "checkbox") { t.click(); }
    }
  });

  // Digits choose (radio) or tick (checkbox) the n-th option of the focused group.
  form.querySelectorAll("fieldset[data-numkeys]").forEach(function (fs) {
    fs.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.altKey || e.metaKey || !/^[1-9]$/.test(e.key)) { return; }
      var t = e.target;
      if (t.type !== "radio" && t.type !== "checkbox") { return; }
      var inputs = fs.querySelectorAll("input[type=radio], input[type=checkbox]");
      var pick = inputs[Number(e.key) - 1];
      if (!pick) { return; }
      e.preventDefault();
      if (pick.type === "radio") { pick.checked = true; } else { pick.checked = !pick.checked; }
      pick.focus();
      pick.dispatchEvent(new Event("change", { bubbles: true }));
    });
  });

  // Problem categories: type to filter, Enter ticks the first match, arrows walk the list.
  var filter = document.getElementById("problem-filter");
  var items = Array.prototype.slice.call(document.querySelectorAll("#problem-list .problem"));
  var count = document.getElementById("problem-count");
  function box(item) { return item.querySelector("input"); }
  function matches(q) { return items.filter(function (i) { return i.dataset.text.indexOf(q) >= 0; }); }
  function applyFilter() {
    var q = filter.value.trim().toLowerCase();
    items.forEach(function (i) { i.hidden = Boolean(q) && !box(i).checked && i.dataset.text.indexOf(q) < 0; });
    var chosen = items.filter(function (i) { return box(i).checked; }).length;
    count.textContent = chosen ? chosen + " ✓" : "";
  }
  function shown() { return items.filter(function (i) { return !i.hidden; }).map(box); }
  filter.addEventListener("input", applyFilter);
  filter.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) {
      e.preventDefault();
      var q = filter.value.trim().toLowerCase();
      var found = q ? matches(q) : [];
      if (found.length) { box(found[0]).checked = !box(found[0]).checked; }
      filter.value = "";
      applyFilter();
    } else if (e.key === "ArrowDown") {
      e.preventDefault();
      var q2 = filter.value.trim().toLowerCase();
      var list = q2 ? matches(q2).map(box) : shown();
      if (list.length) { list[0].focus(); }
    }
  });
  document.getElementById("problem-list").addEventListener("keydown", function (e) {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp" && e.key !== "Escape") { return; }
    e.preventDefault();
    var list = shown();
    var at = list.indexOf(e.target);
    if (e.key === "Escape" || (e.key === "ArrowUp" && at <= 0)) { filter.focus(); return; }
    var next = list[at + (e.key === "ArrowDown" ? 1 : -1)];
    if (next) { next.focus(); }
  });
  document.getElementById("problem-list").addEventListener("change", applyFilter);
  applyFilter();

  // The level the answers give (xinqiao.hotline.callrisk, C-SSRS screener).
  var levels = JSON.parse(document.getElementById("risk-levels").textContent);
  var labels = {};
  form.querySelectorAll("input[name=risk]").forEach(function (r) { labels[r.value] = r.parentNode.textContent.replace(/^\s*\d\s*/, "").trim(); });
  function on(name) { return form.querySelector("input[name=" + name + "]").checked; }
  function answersLevel() {
    if (on("risk_intent") || on("risk_plan") || on("risk_behaviour") || on("risk_harm_others")) { return "high"; }
    if (on("risk_method")) { return "medium"; }
    if (on("risk_wish_dead") || on("risk_ideation")) { return "low"; }
    return "none";
  }
  var out = document.getElementById("answers-level");
  function showLevel() {
    var level = answersLevel();
    out.textContent = labels[level] || level;
    form.querySelectorAll("input[name=risk]").forEach(function (r) {
      r.parentNode.classList.toggle("muted", levels.indexOf(r.value) < levels.indexOf(level));
    });
  }
  document.getElementById("f-questions").addEventListener("change", showLevel);
  showLevel();

  // Person search within the operator's scope; results are radio buttons of the "person" group.
  var search = document.getElementById("person-search");
  var results = document.getElementById("person-results");
  var pending = null;
  function run() {
    var q = search.value.trim();
    if (!q) { results.innerHTML = ""; return Promise.resolve(); }
    // POSTed, never "?q=": a name, ID number or phone must not sit in a URL (access logs).
    var body = new URLSearchParams({ q: q, csrfmiddlewaretoken: form.querySelector("input[name=csrfmiddlewaretoken]").value });
    return fetch(search.dataset.url, { method: "POST", body: body, credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) { results.innerHTML = html; });
  }
  search.addEventListener("input", function () { clearTimeout(pending); pending = setTimeout(run, 250); });
  search.addEventListener("keydown", function (e) {
    if ((e.key === "Enter" && !e.ctrlKey && !e.metaKey) || e.key === "ArrowDown") {
      e.preventDefault();
      clearTimeout(pending);
      run().then(function () {
        var first = results.querySelector("input[type=radio]");
        if (first) { first.checked = true; first.focus(); }
      });
    }
  });
})();
