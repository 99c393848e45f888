// The draft page of a notification: the preview's language follows the selector, and while
// the notification is being sent its progress box follows the JSON API every two seconds.
"use strict";

(() => {
  const locale = document.getElementById("preview-locale");
  if (locale && locale.form) {
    locale.addEventListener("change", () => locale.form.submit());
  }

  const box = document.getElementById("progress");
  if (!box) {
    return;
  }
  const FINISHED = ["sent", "failed"];
  const POLL_MS = 2000;
  const api = box.dataset.api || "";
  const statusLabel = document.getElementById("progress-status");
  const headerStatus = document.getElementById("notification-status");
  const bar = document.getElementById("progress-bar");
  const summary = document.getElementById("progress-summary");
  const list = document.getElementById("progress-counts");

  function showStatus(element, status) {
    if (element) {
      element.textContent = status;
      element.className = `note-status note-status-${status}`;
    }
  }

  function showCounts(counts, recipients) {
    const ended = FINISHED.reduce((sum, state) => sum + (counts[state] || 0), 0);
    const total = recipients || Object.values(counts).reduce((sum, n) => sum + n, 0);
    bar.max = Math.max(total, 1);
    bar.value = ended;
    summary.textContent = `${ended} of ${total} finished`;
    list.replaceChildren(...Object.keys(counts).sort().map((state) => {
      const item = document.createElement("li");
      item.dataset.state = state;
      const name = document.createElement("span");
      name.className = "count-state";
      name.textContent = state.replace(/_/g, " ");
      const value = document.createElement("span");
      value.className = "count-value";
      value.textContent = String(counts[state]);
      item.append(name, ": ", value);
      return item;
    }));
  }

  async function poll() {
    let next = POLL_MS;
    try {
      const response = await fetch(api, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (response.ok) {
        const notification = await response.json();
        showCounts(notification.deliveries || {}, notification.recipients || 0);
        showStatus(statusLabel, notification.status);
        showStatus(headerStatus, notification.status);
        box.dataset.status = notification.status;
        if (notification.status === "done") {
          for (const steer of box.querySelectorAll(".steer")) {
            steer.hidden = true;
          }
          return;
        }
      } else {
        next = POLL_MS * 5;
      }
    } catch {
      next = POLL_MS * 5;
    }
    window.setTimeout(poll, next);
  }

  if (box.dataset.status === "sending" || box.dataset.status === "paused") {
    window.setTimeout(poll, POLL_MS);
  }
})();
