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
