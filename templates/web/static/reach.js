// The public communication page: a Print button (the page prints without navigation; see
// reach.css). Without JavaScript the button stays hidden and the browser's own print works.
"use strict";

(() => {
  const button = document.getElementById("print-page");
  if (button) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
})();
