// Cordon's own script: served as /assets/app.<hash>.js (the CSP allows scripts from this
// origin only; no inline script). Pages work without it; it adds what needs script.
"use strict";
(function () {
  // The session's CSRF token, for requests the page's script makes to the JSON API.
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.getAttribute("content") : "";
  // `Cordon.api(method, path, body)`: a JSON API call with the session cookie and the CSRF
  // token; resolves to the parsed body, rejects with the problem document.
  window.Cordon = {
    csrf: csrf,
    api: async function (method, path, body) {
      const headers = { "Accept": "application/json", "X-CSRF-Token": csrf };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      const res = await fetch(path, {
        method: method, headers: headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      const data = text ? JSON.parse(text) : null;
      if (!res.ok) throw data;
      return data;
    },
  };
  // Selects marked data-autosubmit send their form when changed (the language switch); the
  // button next to them stays for keyboards and for pages without script.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (s) {
    s.addEventListener("change", function () { s.form.requestSubmit(); });
  });
})();

// The war room live (issue 15): the page subscribes to its incident's change stream and, for
// each change, re-fetches the parts of the page that change concerns (server-rendered, the
// same templates as the page) and swaps them in. Form fields someone is editing keep their
// value and focus across the swap. The room's forms (marked data-live with the kind of change
// they make) post in the background: the server answers 204, or a refusal in the reader's
// words shown next to the form (role="alert"); the parts then refresh as for any change.
// Without script the same forms post and reload as before.
(function () {
  "use strict";
  const room = document.getElementById("war-room");
  if (!room || typeof EventSource === "undefined") return;
  const partsUrl = room.getAttribute("data-parts");
  // Which parts a kind of change concerns (cordon_service::feed::KINDS).
  const PARTS = {
    incident: ["summary", "board", "activity"],
    member: ["summary", "board", "team", "activity"],
    task: ["board", "activity"],
    decision: ["board", "activity"],
    message: ["conversation"],
    page: ["team", "activity"],
    clock: ["summary", "activity"],
  };
  const pending = new Set();
  let timer = null;

  function edited(part) {
    // Controls whose value differs from what the server rendered, by id.
    const out = {};
    part.querySelectorAll("input[id], select[id], textarea[id]").forEach(function (el) {
      if (el.type === "hidden") return;
      const changed = el.tagName === "SELECT"
        ? Array.prototype.some.call(el.options, function (o) { return o.selected !== o.defaultSelected; })
        : el.value !== el.defaultValue;
      if (changed) out[el.id] = el.value;
    });
    return out;
  }

  async function refresh(name) {
    const part = room.querySelector('[data-part="' + name + '"]');
    if (!part) return;
    const res = await fetch(partsUrl + name, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    // Lost sight of the incident (404) or signed out (sent to sign in): the whole page answers.
    if (res.status === 404 || res.redirected) { window.location.reload(); return; }
    if (!res.ok) return;
    const html = await res.text();
    const keep = edited(part);
    const active = document.activeElement && part.contains(document.activeElement) ? document.activeElement : null;
    const focused = active ? active.id : null;
    // A heading the script made focusable (below) stays so in the new copy.
    const tabindex = active ? active.getAttribute("tabindex") : null;
    const scroller = part.querySelector(".messages");
    const atBottom = scroller ? scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 4 : true;
    part.innerHTML = html;
    Object.keys(keep).forEach(function (id) {
      const el = document.getElementById(id);
      if (el) el.value = keep[id];
    });
    if (focused) {
      const el = document.getElementById(focused);
      if (el) {
        if (tabindex !== null && !el.hasAttribute("tabindex")) el.setAttribute("tabindex", tabindex);
        el.focus();
      } else {
        // The control is gone (a removed member's button): keep the keyboard in this part.
        const heading = part.querySelector("h1, h2");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          heading.focus();
        }
      }
    }
    const newScroller = part.querySelector(".messages");
    if (newScroller && atBottom) newScroller.scrollTop = newScroller.scrollHeight;
    enhance(part);
  }

  function schedule(kind) {
    (PARTS[kind] || ["activity"]).forEach(function (p) { pending.add(p); });
    if (timer) return;
    timer = setTimeout(function () {
      timer = null;
      const names = Array.from(pending);
      pending.clear();
      names.forEach(function (n) { refresh(n); });
    }, 30);
  }

  const events = new EventSource(room.getAttribute("data-events"));
  // A change between the page being read (data-position) and the stream opening reaches no stream:
  // when the stream opens further on, every part is read again.
  events.addEventListener("ready", function (e) {
    let at = Infinity;
    try { at = JSON.parse(e.data).seq; } catch (_) { /* read everything */ }
    if (at > Number(room.getAttribute("data-position"))) Object.keys(PARTS).forEach(schedule);
  });
  events.addEventListener("change", function (e) {
    try { schedule(JSON.parse(e.data).kind); } catch (_) { schedule("incident"); }
  });
  events.addEventListener("resync", function () {
    Object.keys(PARTS).forEach(schedule);
  });
  // The stream ends when the reader may no longer see the incident (removed from a sealed
  // one's team) and its reconnection is refused: the page asks again, and a 404 reloads it
  // into the not-found page.
  events.addEventListener("error", function () {
    if (events.readyState === EventSource.CLOSED) refresh("summary");
  });

  // A form's refusal, in the words the server chose, next to the form.
  function clearRefusal(form) {
    form.querySelectorAll(".form-error").forEach(function (el) { el.remove(); });
  }
  function showRefusal(form, text) {
    clearRefusal(form);
    const p = document.createElement("p");
    p.className = "error form-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    form.appendChild(p);
  }

  // After a form went through, what it holds is what the page shows: not "being edited" any
  // more (so the refreshed part shows the server's values); forms marked data-clear empty
  // their text fields for the next entry.
  function settle(form) {
    form.querySelectorAll("select").forEach(function (sel) {
      Array.prototype.forEach.call(sel.options, function (o) { o.defaultSelected = o.selected; });
    });
    form.querySelectorAll("input:not([type=hidden]), textarea").forEach(function (el) {
      if (form.hasAttribute("data-clear")) el.value = "";
      el.defaultValue = el.value;
    });
  }

  // Posts a data-live form in the background, with the session's CSRF token, asking for JSON.
  async function postForm(form) {
    if (form.getAttribute("data-busy")) return;
    form.setAttribute("data-busy", "1");
    let res;
    try {
      res = await fetch(form.action, {
        method: "POST",
        credentials: "same-origin",
        headers: {
          "Accept": "application/json",
          "Content-Type": "application/x-www-form-urlencoded",
          "X-CSRF-Token": window.Cordon.csrf,
        },
        body: new URLSearchParams(new FormData(form)),
      });
    } catch (_) {
      form.removeAttribute("data-busy");
      form.submit();
      return;
    }
    form.removeAttribute("data-busy");
    if (res.status === 204) {
      clearRefusal(form);
      settle(form);
      schedule(form.getAttribute("data-live"));
      return;
    }
    // The incident is gone from this reader's view: the page says so.
    if (res.status === 404) {
      window.location.reload();
      return;
    }
    if (res.status < 500 && (res.headers.get("Content-Type") || "").includes("json")) {
      let problem = null;
      try { problem = await res.json(); } catch (_) { problem = null; }
      if (problem && problem.detail) {
        showRefusal(form, problem.detail);
        return;
      }
    }
    // Anything else (signed out, a stale token, a server error): post it the plain way and
    // let the server's page say what happened.
    form.submit();
  }

  // The conversation's form posts to the JSON API without leaving the page; the change stream
  // then brings the message (and Cordon's reply to a command) into the list.
  function enhance(scope) {
    scope.querySelectorAll("form[data-live]").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        postForm(form);
      });
    });
    scope.querySelectorAll("form.message-form").forEach(function (form) {
      form.addEventListener("submit", async function (e) {
        e.preventDefault();
        const field = form.querySelector("textarea");
        const body = field.value;
        if (!body.trim()) return;
        // Emptied before the message goes: the change stream may bring it back (and swap the
        // conversation in, keeping fields being edited) before the post answers.
        field.value = "";
        field.defaultValue = "";
        try {
          await window.Cordon.api("POST", form.getAttribute("data-api"), { body: body });
          refresh("conversation");
        } catch (_) {
          // Not sent: the plain post, with the text, from the form now on the page.
          const current = document.getElementById(field.id) || field;
          current.value = body;
          current.form.submit();
        }
      });
    });
    const scroller = scope.querySelector(".messages");
    if (scroller) scroller.scrollTop = scroller.scrollHeight;
  }
  enhance(room);

  // Regulatory deadlines count down every second.
  function tick() {
    const now = Date.now() / 1000;
    room.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      const left = Number(el.getAttribute("data-due")) - now;
      const s = Math.floor(Math.abs(left));
      const text = Math.floor(s / 3600) + ":" + String(Math.floor(s / 60) % 60).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
      el.textContent = el.getAttribute(left >= 0 ? "data-left" : "data-over").replace("{time}", text);
    });
  }
  tick();
  setInterval(tick, 1000);
})();

// The incidents list live (issue 15): `/` subscribes to the user's change stream
// (/api/v1/events, which carries only changes of incidents the user may see, checked for each
// change) and, when an incident is declared or changes (status, severity, its team and so its
// commander), re-fetches the list — the server-rendered fragment with the page's filters,
// data-parts — and swaps it in. It re-fetches on every (re)connection too, so nothing that
// changed while the stream was not yet (or no longer) open is missed, and once a minute, so
// the ages move on. A session that has ended sends the browser to sign in.
(function () {
  "use strict";
  const list = document.querySelector("[data-live-list][data-parts]");
  if (!list || typeof EventSource === "undefined") return;
  const partsUrl = list.getAttribute("data-parts");
  // The kinds of change the list shows (cordon_service::feed::KINDS).
  const KINDS = ["incident", "member"];
  let timer = null;
  let busy = false;
  let again = false;

  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const res = await fetch(partsUrl, { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (res.redirected) { window.location.reload(); return; }
      if (res.ok) list.innerHTML = await res.text();
    } catch (_) {
      // The next change, reconnection or minute tries again.
    } finally {
      busy = false;
      if (again) { again = false; schedule(); }
    }
  }

  function schedule() {
    if (timer) return;
    timer = setTimeout(function () { timer = null; refresh(); }, 30);
  }

  const events = new EventSource(list.getAttribute("data-events"));
  events.addEventListener("ready", schedule);
  events.addEventListener("resync", schedule);
  events.addEventListener("change", function (e) {
    let kind = "incident";
    try { kind = JSON.parse(e.data).kind; } catch (_) { /* refetch */ }
    if (KINDS.indexOf(kind) >= 0) schedule();
  });
  setInterval(schedule, 60000);
})();
