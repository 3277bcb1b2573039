// Workbench enhancements (the pages work without them): keyboard navigation of inbox rows and the
// 常用意见 picker that fills the opinion box.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.task-row"));
  function move(delta) {
    var i = rows.indexOf(document.activeElement);
    var next = rows[Math.max(0, Math.min(rows.length - 1, i + delta))];
    if (next) { next.focus(); }
  }
  document.addEventListener("keydown", function (e) {
    var tag = (e.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (e.key === "j") { move(1); e.preventDefault(); }
    else if (e.key === "k") { move(-1); e.preventDefault(); }
    else if (e.key === "Enter" && e.target.classList && e.target.classList.contains("task-row")) {
      window.location.href = e.target.getAttribute("data-href");
    } else if (e.key === "x" && e.target.classList && e.target.classList.contains("task-row")) {
      var box = e.target.querySelector("input[type=checkbox]");
      if (box) { box.checked = !box.checked; }
    }
  });
  if (rows.length && !document.querySelector(".flash.error")) { rows[0].focus(); }

  var picker = document.getElementById("opinion_template");
  var opinion = document.getElementById("opinion");
  if (picker && opinion) {
    picker.addEventListener("change", function () {
      var option = picker.options[picker.selectedIndex];
      if (!picker.value) { return; }
      opinion.value = picker.value;
      var decision = option.getAttribute("data-decision");
      var radio = decision && document.querySelector("input[name=decision][value=" + decision + "]");
      if (radio) { radio.checked = true; radio.dispatchEvent(new Event("change")); }
      opinion.focus();
    });
  }
  var radios = document.querySelectorAll("input[name=decision]");
  function showFor() {
    var checked = document.querySelector("input[name=decision]:checked");
    document.querySelectorAll("[data-for-decision]").forEach(function (el) {
      el.hidden = !checked || el.getAttribute("data-for-decision") !== checked.value;
    });
  }
  radios.forEach(function (r) { r.addEventListener("change", showFor); });
  if (radios.length) { showFor(); }
})();
