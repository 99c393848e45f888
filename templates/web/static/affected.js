// The "compute who is affected" form of the incident page (templates/web/affected_section.html):
// the computation is one transaction on the server, so while it runs the button is disabled and
// an indeterminate progress bar says it is under way; the server's answer replaces the page.
(function () {
  'use strict';
  var form = document.getElementById('compute-form');
  if (!form) { return; }
  form.addEventListener('submit', function () {
    var button = document.getElementById('compute-button');
    var progress = document.getElementById('compute-progress');
    if (progress) { progress.hidden = false; }
    // Disabled after this tick, so the form still submits.
    if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
  });
}());
