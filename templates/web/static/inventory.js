// The import form of the inventory page (templates/web/inventory.html) with a progress bar.
// The form posts as it would without this script (multipart, then a redirect to the report);
// this script sends it in the background to show the upload's progress (first half of the bar),
// then polls the import's progress (second half) until the server answers with the report page.
(function () {
  'use strict';
  var form = document.getElementById('import-form');
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.fetch) { return; }
  var box = document.getElementById('import-progress-box');
  var bar = document.getElementById('import-progress');
  var status = document.getElementById('import-status');
  var button = document.getElementById('import-button');

  function show(part, text) {
    bar.value = Math.max(0, Math.min(100, Math.round(part)));
    status.textContent = text;
  }

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1) + ' MiB';
  }

  form.addEventListener('submit', function (event) {
    var input = form.elements.namedItem('file');
    if (!input || !input.files || input.files.length === 0) { return; }  // the server says so
    event.preventDefault();
    var id = form.elements.namedItem('import_id').value;
    var polling = null;
    var request = new XMLHttpRequest();
    box.hidden = false;
    button.disabled = true;
    show(0, 'Uploading…');

    function poll() {
      fetch('/inventory/imports/' + encodeURIComponent(id), {headers: {accept: 'application/json'}})
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (progress) {
          if (progress && progress.phase === 'importing' && progress.total > 0) {
            show(50 + 50 * progress.read / progress.total, 'Importing: ' + megabytes(progress.read)
              + ' of ' + megabytes(progress.total) + ' read');
          }
        })
        .catch(function () { /* the next poll, or the answer, tells */ });
    }

    request.upload.addEventListener('progress', function (e) {
      if (e.lengthComputable && e.total > 0) {
        show(50 * e.loaded / e.total, 'Uploading: ' + megabytes(e.loaded) + ' of ' + megabytes(e.total));
      }
    });
    request.upload.addEventListener('load', function () {
      show(50, 'Uploaded; importing…');
      polling = window.setInterval(poll, 400);
    });
    request.addEventListener('load', function () {
      window.clearInterval(polling);
      if (request.status >= 200 && request.status < 300 && request.responseURL) {
        show(100, 'Done.');
        window.location.assign(request.responseURL + '#import');
        return;
      }
      var page = new DOMParser().parseFromString(request.responseText, 'text/html');
      var detail = page.querySelector('main');
      show(0, 'The import was refused: ' + (detail ? detail.textContent.trim().replace(/\s+/g, ' ')
        : request.status + ' ' + request.statusText));
      button.disabled = false;
    });
    request.addEventListener('error', function () {
      window.clearInterval(polling);
      show(0, 'The upload failed (the connection was lost); nothing may have been imported. Try again.');
      button.disabled = false;
    });
    request.open('POST', form.action);
    request.send(new FormData(form));
  });
}());
