// The Obligations section of the incident page: duties to notify with live countdowns, the
// risk assessment and the milestones, read from and recorded through the JSON API.
"use strict";

(() => {
  const section = document.getElementById("obligations");
  const body = document.getElementById("obligations-body");
  if (!section || !body) {
    return;
  }
  const data = section.dataset;
  const reference = data.incident || "";
  const base = `/api/v1/incidents/${encodeURIComponent(reference)}`;
  const csrf = data.csrf || "";
  const canWrite = data.canWrite === "true";
  const canApprove = data.canApprove === "true";
  const canManageOrganisation = data.canManageOrganisation === "true";
  const allCategories = words(data.categories);
  const incidentCategories = words(data.incidentCategories);
  const estimatedSubjects = data.subjects || "";
  let milestones = parseJson(data.milestones, {});
  const pageZone = validZone(data.zone) ? data.zone : "UTC";

  const RECOMMENDATIONS = {
    document: "document only",
    notify_authority: "notify the authority",
    notify_authority_and_subjects: "notify the authority and the people affected",
  };
  const COLUMNS = ["Obligation", "Recipient", "Due", "Time left", "Status"];
  const MILESTONES = [
    ["breach_determined_at", "Determined that a reportable breach occurred"],
    ["classified_major_at", "Classified as a major incident"],
    ["materiality_determined_at", "Determined to be material"],
  ];
  const CHOICES = {
    identifiability: [
      ["negligible", "negligible"], ["limited", "limited"], ["significant", "significant"],
      ["maximum", "maximum"]],
    confidentiality: [
      ["none", "none"], ["at_risk", "at risk: exposed, no evidence of access"],
      ["known_recipients", "known recipients"], ["unknown_recipients", "unknown recipients"]],
    integrity: [
      ["none", "none"], ["altered_no_misuse", "altered, no misuse"],
      ["recoverable", "recoverable"], ["unrecoverable", "unrecoverable"]],
    availability: [
      ["none", "none"], ["recoverable", "recoverable without difficulty"],
      ["temporary", "temporary"], ["permanent", "permanent"]],
  };
  const ENCRYPTION = [
    ["", "not encrypted, or not known"],
    ["safe", "state of the art, key not compromised"],
    ["compromised", "state of the art, key compromised"],
    ["weak", "not state of the art"],
  ];

  const state = {
    zone: pageZone,
    zoneIsOrganisation: false,
    obligations: null,
    assessments: [],
    profile: null,
    loadedAt: 0,
    error: null,
  };

  // --- small helpers ---------------------------------------------------------------------

  function words(text) {
    return (text || "").split(/\s+/).filter(Boolean);
  }

  function parseJson(text, fallback) {
    try {
      const value = JSON.parse(text || "");
      return value && typeof value === "object" ? value : fallback;
    } catch {
      return fallback;
    }
  }

  function validZone(name) {
    if (!name) {
      return false;
    }
    try {
      new Intl.DateTimeFormat("en-GB", { timeZone: name });
      return true;
    } catch {
      return false;
    }
  }

  function slug(text) {
    return text.replace(/[^a-z0-9]+/gi, "-").replace(/^-|-$/g, "");
  }

  /** An element with attributes (properties where they exist) and children. */
  function h(tag, attributes, ...children) {
    const element = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      if (value === null || value === undefined || value === false) {
        continue;
      }
      if (name === "class") {
        element.className = value;
      } else if (name === "dataset") {
        Object.assign(element.dataset, value);
      } else if (value === true) {
        element.setAttribute(name, "");
      } else {
        element.setAttribute(name, String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) {
        continue;
      }
      element.append(child instanceof Node ? child : String(child));
    }
    return element;
  }

  // --- times in the section's zone ------------------------------------------------------

  const formatters = new Map();

  function wall(date) {
    let format = formatters.get(state.zone);
    if (!format) {
      format = new Intl.DateTimeFormat("en-GB", {
        timeZone: state.zone, hourCycle: "h23", year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit",
        timeZoneName: "short",
      });
      formatters.set(state.zone, format);
    }
    const parts = {};
    for (const part of format.formatToParts(date)) {
      parts[part.type] = part.value;
    }
    return parts;
  }

  function shown(iso) {
    if (!iso) {
      return "";
    }
    const p = wall(new Date(iso));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute} ${p.timeZoneName}`;
  }

  function time(iso) {
    return h("time", { datetime: iso }, shown(iso));
  }

  function inputValue(date) {
    const p = wall(date);
    return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
  }

  function offsetAt(ms) {
    const p = wall(new Date(ms));
    const asUtc = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
    return asUtc - Math.floor(ms / 1000) * 1000;
  }

  /** The instant a datetime-local value names in the section's zone (null if unreadable). */
  function instantOf(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value || "");
    if (!m) {
      return null;
    }
    const guess = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
    let at = guess - offsetAt(guess);
    const again = guess - offsetAt(at);
    if (again !== at) {
      at = again;
    }
    return new Date(at);
  }

  // --- countdowns -----------------------------------------------------------------------

  function two(n) {
    return String(n).padStart(2, "0");
  }

  function countdownText(left) {
    if (left > 0) {
      const days = Math.floor(left / 86400);
      const rest = left % 86400;
      const clock = `${two(Math.floor(rest / 3600))}:${two(Math.floor(rest / 60) % 60)}:${two(rest % 60)}`;
      return `${days > 0 ? `${days} d ` : ""}${clock} left`;
    }
    const over = -left;
    const days = Math.floor(over / 86400);
    const hours = Math.floor(over / 3600) % 24;
    const minutes = Math.floor(over / 60) % 60;
    if (days > 0) {
      return `overdue by ${days} d ${hours} h ${minutes} min`;
    }
    if (hours > 0) {
      return `overdue by ${hours} h ${minutes} min`;
    }
    return `overdue by ${minutes} min ${over % 60} s`;
  }

  function tick() {
    const elapsed = (performance.now() - state.loadedAt) / 1000;
    for (const element of body.querySelectorAll(".countdown[data-seconds]")) {
      const left = Math.floor(Number(element.dataset.seconds) - elapsed);
      const late = left <= 0;
      element.textContent = countdownText(left);
      element.classList.toggle("late", late);
      const row = element.closest("tbody.obligation");
      if (row) {
        row.classList.toggle("overdue", late);
      }
    }
  }

  let timer = 0;

  /** Tick just after each whole second counted from the read, when every countdown changes. */
  function schedule() {
    window.clearTimeout(timer);
    const elapsed = performance.now() - state.loadedAt;
    timer = window.setTimeout(() => {
      tick();
      schedule();
    }, 1000 - (elapsed % 1000) + 50);
  }

  // --- talking to the API ----------------------------------------------------------------

  class Refused extends Error {}

  async function call(method, url, payload) {
    const options = {
      method, credentials: "same-origin", headers: { accept: "application/json" },
    };
    if (payload !== undefined) {
      options.headers["content-type"] = "application/json";
      options.headers["x-csrf-token"] = csrf;
      options.body = JSON.stringify(payload);
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch {
      throw new Refused("The server could not be reached; try again.");
    }
    const answer = await response.json().catch(() => null);
    if (!response.ok) {
      const detail = answer && (answer.detail || answer.title);
      throw new Refused(detail || `The server answered ${response.status}.`);
    }
    return answer;
  }

  async function load() {
    body.setAttribute("aria-busy", "true");
    try {
      const [obligations, assessments] = await Promise.all([
        call("GET", `${base}/obligations`), call("GET", `${base}/assessment`)]);
      state.loadedAt = performance.now();
      state.obligations = obligations;
      state.assessments = Array.isArray(assessments) ? assessments : [];
      state.error = null;
      // Without a profile there is nothing to ask for (it would only be a 404).
      if (!state.profile && obligations.problems.length === 0) {
        state.profile = await call("GET", "/api/v1/organisation").catch(() => null);
        if (state.profile && validZone(state.profile.timezone)) {
          state.zone = state.profile.timezone;
          state.zoneIsOrganisation = true;
        }
      }
    } catch (error) {
      state.error = error instanceof Refused ? error.message : "The obligations could not be read.";
    } finally {
      body.removeAttribute("aria-busy");
    }
    render();
  }

  /** Send a change from `form`; on success read everything again, else show why not. */
  async function submit(form, method, url, payload, after) {
    const problem = form.querySelector(".form-error");
    problem.hidden = true;
    problem.textContent = "";
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const answer = await call(method, url, payload);
      if (after) {
        after(answer);
      }
    } catch (error) {
      problem.textContent = error instanceof Refused ? error.message : "Not saved.";
      problem.hidden = false;
      buttons.forEach((b) => { b.disabled = false; });
      return;
    }
    const panel = form.closest("details.form-panel[data-key]");
    await load();
    schedule();
    if (panel) {
      const again = body.querySelector(`details[data-key="${panel.dataset.key}"]`);
      if (again) {
        again.open = false;
      }
    }
  }

  function errorLine() {
    return h("p", { class: "form-error alert", role: "alert", hidden: true });
  }

  function field(id, label, control, hint) {
    return h("div", { class: "field" }, h("label", { for: id }, label), control, hint || null);
  }

  function select(id, name, options, chosen, required) {
    return h("select", { id, name, required },
      options.map(([value, text]) => h("option", { value, selected: value === chosen }, text)));
  }

  // --- rendering ---------------------------------------------------------------------------

  function render() {
    const open = new Set([...body.querySelectorAll("details[data-key]")]
      .filter((d) => d.open).map((d) => d.dataset.key));
    const zoneLabel = document.getElementById("obligations-zone");
    if (zoneLabel) {
      zoneLabel.textContent = state.zoneIsOrganisation
        ? `Times in ${state.zone} (the organisation's time zone)` : `Times in ${state.zone}`;
    }
    const parts = [];
    if (state.error) {
      parts.push(h("p", { class: "alert", role: "alert", id: "obligations-error" }, state.error));
    }
    if (state.obligations) {
      parts.push(...renderObligations(state.obligations));
    }
    parts.push(renderAssessment(), renderMilestones());
    body.replaceChildren(...parts);
    for (const details of body.querySelectorAll("details[data-key]")) {
      if (open.has(details.dataset.key)) {
        details.open = true;
      }
    }
    tick();
  }

  function renderObligations(found) {
    const parts = [];
    if (found.problems.length) {
      const hint = canManageOrganisation
        ? h("a", { href: "/setup" }, "Set up the organisation profile")
        : "Ask an admin to set the organisation profile.";
      parts.push(h("div", { class: "problems", id: "obligations-problems" },
        h("p", {}, h("strong", {}, "Obligations cannot be computed yet:")),
        h("ul", {}, found.problems.map((p) => h("li", {}, p))),
        h("p", { class: "hint" }, hint)));
    }
    if (found.assumptions.length) {
      parts.push(h("div", { class: "assumptions", id: "obligations-assumptions" },
        h("p", {}, h("strong", {}, "Assumed until known:")),
        h("ul", {}, found.assumptions.map((a) => h("li", {}, a)))));
    }
    const applying = found.obligations.filter((o) => o.applies);
    const gone = found.obligations.filter((o) => !o.applies);
    if (applying.length) {
      // Each cell names its column (data-label): on a phone the rows stack, each cell under
      // its column's name. The table fits its column on a desktop without scrolling.
      parts.push(h("table", { class: "obligations-table", id: "obligations-applying",
        "data-labelled": true },
      h("caption", {}, `${applying.length} ${applying.length === 1 ? "duty applies" : "duties apply"}, soonest due first`),
      h("thead", {}, h("tr", {},
        COLUMNS.map((name) => h("th", { scope: "col" }, name)))),
      applying.map(renderObligation)));
    } else if (!found.problems.length) {
      parts.push(h("p", { class: "empty", id: "obligations-none" },
        "No duty to notify applies to this incident as it stands."));
    }
    if (gone.length) {
      parts.push(h("details", { class: "no-longer", id: "obligations-gone",
        dataset: { key: "no-longer" } },
        h("summary", {}, `No longer applies (${gone.length})`),
        h("ul", { class: "gone" }, gone.map(renderGone))));
    }
    return parts;
  }

  function contactFor(o) {
    const authorities = (state.profile && state.profile.authorities) || {};
    const contact = authorities[o.ref] || authorities[o.regime];
    if (!contact || !(contact.name || contact.email)) {
      return null;
    }
    return h("span", { class: "muted contact" },
      `Contact: ${[contact.name, contact.email].filter(Boolean).join(", ")}`);
  }

  /** The profile's contact for a duty's reports: its own entry, else its regime's. */
  function profileContact(o) {
    const authorities = (state.profile && state.profile.authorities) || {};
    const own = authorities[o.ref];
    return own && Object.keys(own).length ? own : authorities[o.regime] || null;
  }

  function hostOf(url) {
    try {
      return new URL(url).host || url;
    } catch {
      return url;
    }
  }

  /** Who takes a report to an authority and how (the catalogue's entry), beside the contact
   *  the organisation profile names for it, which is the one a report is sent to. */
  function authorityBlock(o) {
    const a = o.authority;
    if (!a) {
      return null;
    }
    const id = slug(o.ref);
    const contact = profileContact(o);
    const parts = [];
    const used = contact ? [contact.name, contact.email, contact.address, contact.phone,
      contact.website].filter(Boolean) : [];
    if (used.length) {
      parts.push(h("p", { class: "authority-used", id: `authority-used-${id}` },
        h("strong", {}, "Address used: "), used.join(", "),
        h("span", { class: "muted" }, " (the organisation profile's contact)")));
    }
    if (o.status === "pending" && !(contact && contact.email)) {
      parts.push(h("p", { class: "hint authority-by-hand", id: `authority-by-hand-${id}` },
        "The organisation profile has no e-mail address for this authority, so the report is "
        + "not sent from here: file it as the authority asks (below), then record it as met "
        + "with how it was filed."));
    }
    const rows = [];
    const add = (term, ...value) => rows.push(h("dt", {}, term), h("dd", {}, ...value));
    add("Authority", a.name);
    add("Address", a.address);
    add("Website", h("a", { href: a.website, rel: "noopener noreferrer" }, a.website));
    add("How to file", h("span", { class: "filing" }, a.filing));
    if (a.email) {
      add("E-mail", a.email);
    }
    if (a.phone) {
      add("Phone", a.phone);
    }
    add("Source", `checked on ${a.reviewed} · `,
      h("a", { href: a.source, rel: "noopener noreferrer" }, hostOf(a.source)));
    parts.push(h("p", { class: "authority-heading" }, h("strong", {},
      used.length ? "The catalogue's entry, for reference" : "Who takes this report, and how")),
    h("dl", { class: "basis-list authority-list" }, rows));
    return h("div", { class: "duty-authority", id: `authority-${id}` }, parts);
  }

  /** What a trigger waits for, in the page's words rather than those of a FACTS file. */
  function waitingText(waiting) {
    const milestone = /^incident\.(\w+)$/.exec(waiting);
    if (milestone) {
      const known = MILESTONES.find(([name]) => name === milestone[1]);
      return known ? `the milestone "${known[1]}"` : milestone[1].replace(/_/g, " ");
    }
    return waiting.replace(/ to be fulfilled \(incident\.met\)$/, " to be met");
  }

  function dueCell(o) {
    if (o.due_at && o.assumed) {
      // Counted from awareness until the milestone the duty waits for is recorded.
      const waiting = o.trigger && o.trigger.waiting_for;
      return [time(o.due_at), " ", h("span", {
        class: "assumed",
        title: waiting ? `assumed until ${waitingText(waiting)} is recorded: counted from awareness`
          : "assumed: counted from awareness",
      }, "assumed")];
    }
    if (o.due_at) {
      return time(o.due_at);
    }
    const waiting = o.trigger && o.trigger.waiting_for;
    if (waiting) {
      return h("span", { class: "waiting" }, `waiting for ${waitingText(waiting)}`);
    }
    return h("span", { class: "muted" }, o.rule && o.rule.without_undue_delay
      ? "without undue delay (no fixed time)" : "no fixed time");
  }

  function statusLine(o) {
    const by = o.status_by ? ` by ${o.status_by}` : "";
    if (o.status === "met" || o.status === "late") {
      return h("div", { class: `obligation-status status-${o.status}` },
        h("strong", {}, o.status === "late" ? "late" : "met"), " at ", time(o.met_at),
        o.how ? ` · ${o.how}` : "", h("span", { class: "muted" }, by),
        o.status === "late" && o.late_reason
          ? h("div", { class: "late-reason" }, "Reason for delay: ", h("span", { class: "reason" }, o.late_reason))
          : null);
    }
    if (o.status === "waived") {
      return h("div", { class: "obligation-status status-waived" },
        h("strong", {}, "waived"), ": ", h("span", { class: "reason" }, o.waiver || ""),
        h("span", { class: "muted" }, `${by}${o.status_at ? ` at ${shown(o.status_at)}` : ""}`));
    }
    return h("div", { class: "obligation-status status-pending" }, h("strong", {}, "pending"));
  }

  function basis(o, key) {
    const b = o.basis || {};
    const rows = [];
    const add = (term, ...value) => rows.push(h("dt", {}, term), h("dd", {}, ...value));
    if (b.rule) {
      add("Rule", b.rule);
    }
    if (o.trigger) {
      add("Trigger", o.trigger.name.replace(/_/g, " "),
        o.trigger.at ? [" at ", time(o.trigger.at)] : "",
        o.trigger.waiting_for ? ` (waiting for ${waitingText(o.trigger.waiting_for)})` : "");
    }
    if (o.assumed && b.trigger) {
      add("Counted from", `${b.trigger.replace(/_/g, " ")} (assumed)`,
        b.trigger_at ? [" at ", time(b.trigger_at)] : "");
    }
    if (b.timezone) {
      add("Days counted in", b.timezone);
    }
    if (o.version) {
      add("Law version", o.version);
    }
    if (o.confidence) {
      add("Confidence", `${o.confidence}${o.reviewed ? `, sources last checked ${o.reviewed}` : ""}`);
    }
    if (b.citation) {
      const link = /^https?:\/\//.test(b.source || "")
        ? h("a", { href: b.source, rel: "noopener noreferrer" }, b.citation) : b.citation;
      add("Citation", link);
    }
    if (b.notes && b.notes.length) {
      add("Notes", h("ul", {}, b.notes.map((n) => h("li", {}, n))));
    }
    if (o.why.length) {
      add("Why", h("ul", { class: "why" }, o.why.map((w) => h("li", {}, w))));
    }
    if (o.content.length) {
      add("Must contain", h("ul", {}, o.content.map((c) => h("li", {}, c))));
    }
    return h("details", { class: "basis", dataset: { key } },
      h("summary", {}, "Why / basis"), h("dl", { class: "basis-list" }, rows));
  }

  function renderObligation(o) {
    const id = slug(o.ref);
    const pending = o.status === "pending";
    const countdown = pending && o.due_at && o.seconds_left !== null
      ? h("span", { class: "countdown", dataset: { seconds: o.seconds_left } })
      : h("span", { class: "muted" }, "—");
    // The target (the latest time a duty "without undue delay" may be met) is shown under
    // the due time, unless it is the due time itself.
    const target = o.target_at && !(o.due_at && Date.parse(o.target_at) === Date.parse(o.due_at))
      ? h("div", { class: "target" }, "target ", time(o.target_at),
        pending && new Date(o.target_at) < new Date()
          ? h("span", { class: "target-passed" }, " (passed)") : null)
      : null;
    const [obligation, recipient, due, left, status] = COLUMNS;
    return h("tbody", {
      class: `obligation status-${o.status}${o.overdue ? " overdue" : ""}`,
      id: `obligation-${id}`, dataset: { ref: o.ref },
    },
    h("tr", { class: "obligation-row" },
      h("th", { scope: "row", dataset: { label: obligation } },
        h("code", { class: "obligation-ref" }, o.ref),
        o.phase ? h("span", { class: "phase-tag" }, o.phase) : null,
        // A duty read with low confidence says so where it is listed, not only in its basis.
        o.confidence === "low" ? h("span", { class: "confidence confidence-low" }, "low confidence") : null),
      h("td", { class: "recipient", dataset: { label: recipient } }, o.recipient_name,
        contactFor(o)),
      h("td", { class: "when", dataset: { label: due } }, h("div", { class: "due" }, dueCell(o)),
        target),
      h("td", { class: "left", dataset: { label: left } }, countdown),
      h("td", { class: "status-cell", dataset: { label: status } }, statusLine(o))),
    h("tr", { class: "obligation-more" },
      h("td", { colspan: COLUMNS.length },
        h("div", { class: "duty-more" }, authorityBlock(o), basis(o, `basis-${id}`),
          actions(o)))));
  }

  function renderGone(o) {
    const id = slug(o.ref);
    return h("li", { class: `obligation-gone status-${o.status}`, id: `gone-${id}`, dataset: { ref: o.ref } },
      h("code", { class: "obligation-ref" }, o.ref), ` · ${o.recipient_name}`,
      o.status !== "pending" ? statusLine(o) : null,
      o.why.length ? h("ul", { class: "why" }, o.why.map((w) => h("li", {}, w))) : null,
      actions(o));
  }

  // --- obligation forms ---------------------------------------------------------------------

  /** A duty's forms, behind one button (a disclosure) that opens them: marking it met or
   *  waiving it while it is pending, reopening it once it is not. A refused form stays open
   *  with the server's reason and what was typed; a saved one closes. */
  function actions(o) {
    const forms = [];
    if (canWrite && o.applies && o.status === "pending") {
      forms.push(metForm(o));
      if (canApprove) {
        forms.push(waiveForm(o));
      }
    }
    if (canApprove && o.status !== "pending") {
      forms.push(reopenForm(o));
    }
    if (!forms.length) {
      return null;
    }
    return h("details", { class: "form-panel duty-actions", dataset: { key: `actions-${slug(o.ref)}` } },
      h("summary", {}, "Update status", h("span", { class: "visually-hidden" }, ` of ${o.ref}`)),
      h("div", { class: "obligation-actions" }, forms));
  }

  function recordUrl(o) {
    return `${base}/obligations/${encodeURIComponent(o.regime)}/${encodeURIComponent(o.obligation)}`;
  }

  function metForm(o) {
    const id = slug(o.ref);
    const at = h("input", { id: `met-at-${id}`, name: "at", type: "datetime-local", required: true,
      value: inputValue(new Date()) });
    const how = h("input", { id: `met-how-${id}`, name: "how", required: true, maxlength: 5000,
      placeholder: "portal and receipt number, letter, e-mail" });
    const reason = h("input", { id: `met-reason-${id}`, name: "reason", maxlength: 10000 });
    const hint = h("span", { class: "hint", id: `met-late-${id}`, hidden: true },
      "Met after the due time: the reasons for the delay are required.");
    const due = o.due_at ? new Date(o.due_at) : null;
    const follow = () => {
      const chosen = instantOf(at.value);
      const late = Boolean(due && chosen && chosen > due);
      reason.required = late;
      hint.hidden = !late;
    };
    at.addEventListener("input", follow);
    at.addEventListener("change", follow);
    // Without a due time nothing can be late, so there is no delay to explain.
    const form = h("form", { class: "obligation-form met-form" },
      field(at.id, "Met at", at),
      field(how.id, "How", how),
      due ? field(reason.id, "Reason for delay", reason, hint) : null,
      h("button", { type: "submit" }, "Mark met"), errorLine());
    follow();
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const when = instantOf(at.value);
      const payload = { status: "met", how: how.value, reason: reason.value };
      if (when) {
        payload.at = when.toISOString();
      }
      submit(form, "POST", recordUrl(o), payload);
    });
    return form;
  }

  function waiveForm(o) {
    const id = slug(o.ref);
    const reason = h("input", { id: `waive-reason-${id}`, name: "reason", required: true,
      minlength: 10, maxlength: 10000 });
    const form = h("form", { class: "obligation-form waive-form" },
      field(reason.id, "Justification for the waiver", reason),
      h("button", { type: "submit", class: "secondary" }, "Waive"), errorLine());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(form, "POST", recordUrl(o), { status: "waived", reason: reason.value });
    });
    return form;
  }

  function reopenForm(o) {
    const id = slug(o.ref);
    const reason = h("input", { id: `reopen-reason-${id}`, name: "reason", required: true,
      maxlength: 10000 });
    const form = h("form", { class: "obligation-form reopen-form" },
      field(reason.id, "Reason to reopen", reason),
      h("button", { type: "submit", class: "plain" }, "Reopen"), errorLine());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(form, "POST", recordUrl(o), { status: "pending", reason: reason.value });
    });
    return form;
  }

  // --- assessment -------------------------------------------------------------------------------

  function renderAssessment() {
    const latest = state.assessments.length ? state.assessments[state.assessments.length - 1] : null;
    const parts = [h("h3", { id: "assessment-heading" }, "Risk assessment")];
    if (!latest) {
      parts.push(h("p", { class: "empty", id: "assessment-none" },
        "No assessment yet: until one is recorded, high risk is assumed so that no duty is missed."));
    } else {
      parts.push(renderLatest(latest));
    }
    if (canApprove && latest) {
      parts.push(overrideForm(latest));
    }
    if (canWrite) {
      parts.push(assessmentForm(latest));
    }
    return h("section", { class: "assessment", id: "assessment", "aria-labelledby": "assessment-heading" },
      parts);
  }

  function recommendation(code) {
    return h("span", { class: "recommendation", dataset: { recommendation: code } },
      RECOMMENDATIONS[code] || code);
  }

  function renderLatest(a) {
    const r = a.result || {};
    const rows = [];
    const add = (term, ...value) => rows.push(h("dt", {}, term), h("dd", {}, ...value));
    add(a.pending ? "Decided, not yet in force" : "In force",
      h("strong", { id: "assessment-decided" }, recommendation(a.decided)),
      a.override ? " (override)" : "");
    if (a.pending) {
      add("Confirmation", h("span", { id: "assessment-pending" },
        `It would end ${(a.ends || []).join(", ")}: the assessment before it stays in force until an approver who did not record it confirms it. `),
        h("a", { href: `/incidents/${encodeURIComponent(reference)}/assessment#assessment-${a.number}` },
          "Review and confirm"));
    }
    add("Recommended", recommendation(a.recommendation));
    add("Severity", h("span", { id: "assessment-severity" }, String(r.severity || "").replace(/_/g, " ")));
    add("Score", h("span", { id: "assessment-score" },
      `SE = DPC × EI + CB = ${r.dpc} × ${r.ei} + ${r.cb} = ${r.score}`));
    add("Assessment", `#${a.number} by ${a.assessed_by} at `, time(a.assessed_at));
    if (a.override) {
      add("Overridden", `by ${a.overridden_by} at `, time(a.overridden_at));
      add("Justification", h("span", { class: "reason", id: "assessment-justification" },
        a.override_justification || ""));
    }
    const reasons = Array.isArray(r.reasons) ? r.reasons : [];
    return h("div", { id: "assessment-latest" },
      h("dl", { class: "details-list" }, rows),
      h("details", { class: "reasons", open: true, dataset: { key: "assessment-reasons" } },
        h("summary", {}, `Reasons (${reasons.length})`),
        h("ol", {}, reasons.map((line) => h("li", {}, line)))));
  }

  function overrideForm(latest) {
    const choice = select("override-recommendation", "recommendation",
      [["", "choose…"], ...Object.entries(RECOMMENDATIONS)], "", true);
    const justification = h("textarea", { id: "override-justification", name: "justification",
      rows: 2, required: true, minlength: 10, maxlength: 10000 });
    const form = h("form", { class: "override-form", id: "override-form" },
      h("p", { class: "muted" }, `The recommendation of assessment #${latest.number} and the override both stay on the timeline.`),
      field(choice.id, "Recommendation to apply", choice),
      field(justification.id, "Justification", justification),
      h("button", { type: "submit" }, "Override recommendation"), errorLine());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submit(form, "POST", `${base}/assessment/override`,
        { recommendation: choice.value, justification: justification.value });
    });
    return h("details", { class: "form-panel", id: "override-panel", dataset: { key: "override-form" } },
      h("summary", {}, "Override the recommendation"), form);
  }

  function assessmentForm(latest) {
    const facts = (latest && latest.facts) || {};
    const chosen = new Set(facts.data_categories || incidentCategories);
    const checks = allCategories.map((name) => {
      const id = `assess-category-${name}`;
      return h("label", { class: "check", for: id },
        h("input", { id, type: "checkbox", name: "data_categories", value: name,
          checked: chosen.has(name) }), ` ${name.replace(/_/g, " ")}`);
    });
    const subjects = h("input", { id: "assess-subjects", name: "subjects", type: "number",
      min: 0, step: 1, required: true,
      value: facts.subjects !== undefined ? facts.subjects : estimatedSubjects });
    const flag = (name, label) => h("label", { class: "check", for: `assess-${name}` },
      h("input", { id: `assess-${name}`, type: "checkbox", name, checked: Boolean(facts[name]) }),
      ` ${label}`);
    const pick = (name, label) => field(`assess-${name}`, label, select(`assess-${name}`, name,
      [["", "choose…"], ...CHOICES[name]], facts[name] || "", true));
    const encrypted = facts.encrypted;
    const encryption = !encrypted ? "" : !encrypted.state_of_the_art ? "weak"
      : encrypted.key_compromised ? "compromised" : "safe";
    const trusted = facts.recipient_trusted === true ? "yes" : facts.recipient_trusted === false ? "no" : "";
    const form = h("form", { class: "assessment-form", id: "assessment-form" },
      h("fieldset", {}, h("legend", {}, "Data categories exposed"), checks),
      field(subjects.id, "People affected", subjects),
      h("div", { class: "checks" },
        flag("vulnerable_subjects", "vulnerable people (patients, minors…)"),
        flag("malicious", "malicious intent")),
      h("div", { class: "form-grid" },
      pick("identifiability", "Identifiability"),
      pick("confidentiality", "Loss of confidentiality"),
      pick("integrity", "Loss of integrity"),
      pick("availability", "Loss of availability"),
      field("assess-exfiltration", "Exfiltration", select("assess-exfiltration", "exfiltration",
        [["", "not known"], ["confirmed", "confirmed"], ["suspected", "suspected"],
          ["ruled_out", "ruled out"]], facts.exfiltration || "", false)),
      field("assess-encryption", "Encryption", select("assess-encryption", "encryption",
        ENCRYPTION, encryption, false)),
      field("assess-recipient-trusted", "Only trusted recipients, who confirmed deletion",
        select("assess-recipient-trusted", "recipient_trusted",
          [["", "not applicable or not known"], ["yes", "yes"], ["no", "no"]], trusted, false))),
      h("button", { type: "submit" }, "Record assessment"), errorLine());
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = (name) => form.elements.namedItem(name).value;
      const payload = {
        data_categories: [...form.querySelectorAll("input[name=data_categories]:checked")]
          .map((box) => box.value),
        subjects: Number(subjects.value),
        vulnerable_subjects: form.elements.namedItem("vulnerable_subjects").checked,
        identifiability: value("identifiability"),
        confidentiality: value("confidentiality"),
        integrity: value("integrity"),
        availability: value("availability"),
        malicious: form.elements.namedItem("malicious").checked,
      };
      if (value("exfiltration")) {
        payload.exfiltration = value("exfiltration");
      }
      const encryptionChoice = value("encryption");
      if (encryptionChoice) {
        payload.encrypted = {
          state_of_the_art: encryptionChoice !== "weak",
          key_compromised: encryptionChoice === "compromised",
        };
      }
      if (value("recipient_trusted")) {
        payload.recipient_trusted = value("recipient_trusted") === "yes";
      }
      submit(form, "POST", `${base}/assessment`, payload);
    });
    return h("details", { class: "form-panel", id: "assessment-panel",
      dataset: { key: "assessment-form" } },
    h("summary", {}, latest ? "Record a new assessment" : "Record an assessment"), form);
  }

  // --- milestones -------------------------------------------------------------------------------

  function renderMilestones() {
    const parts = [h("h3", { id: "milestones-heading" }, "Milestones"),
      h("p", { class: "muted" }, "Instants that start the clocks of some regimes.")];
    const rows = [];
    for (const [name, label] of MILESTONES) {
      rows.push(h("dt", {}, label),
        h("dd", { id: `milestone-${name}` }, milestones[name] ? time(milestones[name]) : "—"));
    }
    parts.push(h("dl", { class: "details-list" }, rows));
    if (canWrite) {
      const inputs = MILESTONES.map(([name, label]) => field(`milestone-input-${name}`, label,
        h("input", { id: `milestone-input-${name}`, name, type: "datetime-local",
          value: milestones[name] ? inputValue(new Date(milestones[name])) : "" })));
      const form = h("form", { class: "milestones-form", id: "milestones-form" },
        h("div", { class: "form-grid" }, inputs),
        h("button", { type: "submit" }, "Save milestones"), errorLine());
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const payload = {};
        for (const [name] of MILESTONES) {
          const given = form.elements.namedItem(name).value;
          const at = given ? instantOf(given) : null;
          if (at) {
            payload[name] = at.toISOString();
          }
        }
        if (!Object.keys(payload).length) {
          const problem = form.querySelector(".form-error");
          problem.textContent = "Enter at least one milestone.";
          problem.hidden = false;
          return;
        }
        submit(form, "PUT", `${base}/milestones`, payload, (saved) => {
          milestones = saved && typeof saved === "object" ? saved : milestones;
        });
      });
      parts.push(h("details", { class: "form-panel", dataset: { key: "milestones-form" } },
        h("summary", {}, "Record milestones"), form));
    }
    return h("section", { class: "milestones", id: "milestones", "aria-labelledby": "milestones-heading" },
      parts);
  }

  load().then(schedule);
})();
