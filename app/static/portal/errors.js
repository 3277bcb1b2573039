// The error summary takes the focus when the page loads (where the autofocus attribute did not), so a
// screen reader reads it and the phone shows it; its links move the focus to their field.
(function () {
  "use strict";
  var summary = document.getElementById("error-summary");
  if (summary && document.activeElement !== summary) { summary.focus(); }
}());
