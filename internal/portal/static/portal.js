// autho portal: small conveniences on top of pages that work without
// script. Loaded from this file (never inline) so that the Content Security
// Policy can forbid every inline script.
(function () {
  "use strict";

  function selectText(el) {
    var range = document.createRange();
    range.selectNodeContents(el);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
  }

  // copyText uses the Clipboard API where the browser allows it (a secure
  // context) and falls back to the older selection-based copy elsewhere.
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text);
    }
    return new Promise(function (resolve, reject) {
      var ta = document.createElement("textarea");
      ta.value = text;
      ta.setAttribute("readonly", "");
      ta.style.position = "fixed";
      ta.style.opacity = "0";
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      if (ok) { resolve(); } else { reject(new Error("copy refused")); }
    });
  }

  // Copy buttons are hidden in the page and shown here, so that without
  // script nobody sees a button that does nothing.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    var id = button.getAttribute("data-copy");
    var source = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!source) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      copyText(source.textContent.trim()).then(function () {
        if (status) { status.textContent = "Copied to the clipboard."; }
      }, function () {
        selectText(source);
        if (status) { status.textContent = "Selected: press Ctrl+C (or \u2318C) to copy."; }
      });
    });
  });

  // Typing a date picks the "on a date" choice that goes with it.
  document.querySelectorAll("[data-selects]").forEach(function (input) {
    var radio = document.getElementById(input.getAttribute("data-selects"));
    if (!radio) { return; }
    ["focus", "input", "change"].forEach(function (name) {
      input.addEventListener(name, function () { radio.checked = true; });
    });
  });
})();
