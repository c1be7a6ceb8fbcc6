// autho portal: passkeys (WebAuthn). Every passkey form is hidden in the
// page and shown here when the browser can use passkeys, so that without
// script nobody sees a button that does nothing. A form's submit asks its
// options endpoint (data-options) for the ceremony, hands them to
// navigator.credentials, puts the browser's answer as JSON into the form's
// hidden field and sends the form as an ordinary post: the page that comes
// back is the server's. Loaded from this file, never inline, under the
// Content Security Policy's script-src 'self'.
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) { return; }

  function fromB64url(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toB64url(buf) {
    if (!buf) { return undefined; }
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var out = { type: d.type, id: fromB64url(d.id) };
      if (d.transports) { out.transports = d.transports; }
      return out;
    });
  }

  // The server's options carry binary values as base64url text.
  function creationOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.user = Object.assign({}, pk.user, { id: fromB64url(pk.user.id) });
    pk.excludeCredentials = descriptors(pk.excludeCredentials);
    return { publicKey: pk };
  }

  function requestOptions(o) {
    var pk = Object.assign({}, o.publicKey);
    pk.challenge = fromB64url(pk.challenge);
    pk.allowCredentials = descriptors(pk.allowCredentials);
    return { publicKey: pk };
  }

  function answerJSON(cred) {
    var r = cred.response, response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) { response.transports = r.getTransports(); }
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify({
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      response: response,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    });
  }

  function show(form, message) {
    var el = form.querySelector("[data-passkey-error]");
    if (!el) { return; }
    el.textContent = message;
    el.hidden = false;
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var kind = form.getAttribute("data-passkey");
    var busy = false;
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (busy) { return; }
      busy = true;
      var body = new URLSearchParams();
      var name = form.querySelector('input[name="name"]');
      if (name) { body.set("name", name.value); }
      fetch(form.getAttribute("data-options"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: body.toString()
      }).then(function (res) {
        return res.json().then(function (o) {
          if (!res.ok) { throw new Error(o.error || "The passkey request was refused."); }
          return o;
        }, function () { throw new Error("The passkey request failed. Reload the page and try again."); });
      }).then(function (o) {
        return kind === "register" ? navigator.credentials.create(creationOptions(o)) : navigator.credentials.get(requestOptions(o));
      }).then(function (cred) {
        if (!cred) { throw new Error("No passkey was chosen."); }
        form.querySelector("[data-passkey-answer], input[name=\"credential\"]").value = answerJSON(cred);
        form.submit();
      }).catch(function (err) {
        busy = false;
        var msg = err && err.name === "NotAllowedError" ? "The passkey was not used: it was cancelled, or took too long." : (err && err.message) || "The passkey could not be used.";
        show(form, msg);
      });
    });
  });
})();
