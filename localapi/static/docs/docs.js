/* simio-local interactive docs: Swagger UI (vendored, same origin) plus, as the contract
 * describes, the "Exchange credentials and fill HTTP Bearer" form and a per-tab
 * Idempotency-Key for POST /v1/credential-rotations. Plain ES5, no dependencies; nothing
 * here logs or stores a client_secret. The applied authorization lives in sessionStorage
 * (this browser tab only), never in localStorage. */
(function () {
  "use strict";

  var root = document.getElementById("swagger-ui");
  var specUrl = root.getAttribute("data-openapi-url");
  var tokenUrl = root.getAttribute("data-token-url");
  var scheme = root.getAttribute("data-bearer-scheme") || "bearerAuth";
  var AUTH_KEY = "simio.docs.authorized";
  var ROTATION_KEY = "simio.docs.rotation-idempotency-key";

  function tabStore() {
    try { return window.sessionStorage; } catch (e) { return null; }
  }

  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) { hex += ("0" + bytes[i].toString(16)).slice(-2); }
    return "docs-rotation-" + hex;
  }

  // One key per browser tab: a reload or a lost response retried in this tab replays the
  // same rotation (same credential_claim_token) instead of rotating again.
  function rotationKey() {
    var store = tabStore();
    var key = store && store.getItem(ROTATION_KEY);
    if (!key) {
      key = randomKey();
      if (store) { store.setItem(ROTATION_KEY, key); }
    }
    return key;
  }

  function pathOf(url) {
    try { return new URL(url, window.location.href).pathname; } catch (e) { return ""; }
  }

  function requestInterceptor(req) {
    var method = (req.method || "GET").toUpperCase();
    if (method === "POST" && /\/v1\/credential-rotations\/?$/.test(pathOf(req.url))) {
      req.headers = req.headers || {};
      var present = Object.keys(req.headers).some(function (name) {
        return name.toLowerCase() === "idempotency-key";
      });
      if (!present) { req.headers["Idempotency-Key"] = rotationKey(); }
    }
    return req;
  }

  function saveAuthorization(system) {
    var store = tabStore();
    if (!store) { return; }
    var authorized = system.authSelectors.authorized();
    var value = authorized && authorized.toJS ? authorized.toJS() : {};
    if (Object.keys(value).length) {
      store.setItem(AUTH_KEY, JSON.stringify(value));
    } else {
      store.removeItem(AUTH_KEY);
    }
  }

  // Keep Authorize / Logout in this tab's sessionStorage (Swagger UI's own
  // persistAuthorization would use localStorage, which outlives the tab).
  function TabSessionAuthPlugin() {
    function wrap(original, system) {
      return function () {
        var result = original.apply(null, arguments);
        saveAuthorization(system);
        return result;
      };
    }
    return { statePlugins: { auth: { wrapActions: { authorize: wrap, logout: wrap } } } };
  }

  function restoreAuthorization(ui) {
    var store = tabStore();
    var saved = store && store.getItem(AUTH_KEY);
    if (!saved) { return; }
    try { ui.authActions.authorize(JSON.parse(saved)); } catch (e) { store.removeItem(AUTH_KEY); }
  }

  function byOperationSummary(a, b) {
    var sa = a.get("operation").get("summary") || a.get("path");
    var sb = b.get("operation").get("summary") || b.get("path");
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }

  var ui = window.SwaggerUIBundle({
    url: specUrl,
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    validatorUrl: null,               // never ask validator.swagger.io about the spec
    persistAuthorization: false,      // TabSessionAuthPlugin keeps it per tab instead
    tryItOutEnabled: false,
    displayRequestDuration: true,
    operationsSorter: byOperationSummary,   // the guided workflow reads 01, 02, 03, ...
    requestInterceptor: requestInterceptor,
    presets: [window.SwaggerUIBundle.presets.apis],
    plugins: [TabSessionAuthPlugin],
    onComplete: function () {
      restoreAuthorization(ui);
      document.documentElement.setAttribute("data-simio-docs", "ready");
    }
  });
  window.ui = ui;

  var form = document.getElementById("simio-exchange");
  var status = document.getElementById("simio-exchange-status");
  if (!form) { return; }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var clientId = form.elements.client_id.value.trim();
    var secret = form.elements.client_secret.value;
    if (!clientId || !secret) { status.textContent = "Enter client_id and client_secret."; return; }
    status.textContent = "Exchanging credentials...";
    window.fetch(tokenUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify({ grant_type: "client_credentials", client_id: clientId,
                             client_secret: secret })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    }).then(function (result) {
      var token = result.body && result.body.access_token;
      if (!result.ok || !token) {
        status.textContent = "Exchange failed (HTTP " + result.status + "): " +
          ((result.body && (result.body.error_description || result.body.error)) ||
           "no token returned") + ".";
        status.setAttribute("data-state", "error");
        return;
      }
      ui.preauthorizeApiKey(scheme, token);
      saveAuthorization(ui);   // preauthorize* bypasses wrapped actions: save it here
      form.elements.client_secret.value = "";
      var hours = Math.round((result.body.expires_in || 0) / 360) / 10;
      status.textContent = "HTTP Bearer filled" + (hours ? " (valid for about " + hours +
        " h)" : "") + ". Try-It on protected operations now sends it.";
      status.setAttribute("data-state", "authorized");
    }).catch(function () {
      status.textContent = "Exchange failed: the server could not be reached.";
      status.setAttribute("data-state", "error");
    });
  });
}());
