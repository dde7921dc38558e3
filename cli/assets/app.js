// entraide: live updates. Every action works without this script; it only keeps the page
// current: on a "change" event from the node it fetches the page again and swaps the
// content, unless someone is typing in a form (then it shows a notice instead).
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  var busy = false;
  var again = false;

  function typing() {
    var fields = document.querySelectorAll("#main input, #main textarea, #main select");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === "hidden" || f.type === "submit") continue;
      if (f.type === "checkbox" || f.type === "radio") {
        if (f.checked !== f.defaultChecked) return true;
      } else if (f.tagName === "SELECT") {
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].selected !== f.options[j].defaultSelected) return true;
        }
      } else if (f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }

  function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live": "1" } })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        var footer = doc.getElementById("sync-status");
        if (footer) document.getElementById("sync-status").innerHTML = footer.innerHTML;
        var main = doc.getElementById("main");
        if (!main) return;
        if (typing()) {
          document.getElementById("live-notice").hidden = false;
          return;
        }
        document.getElementById("main").innerHTML = main.innerHTML;
        document.getElementById("live-notice").hidden = true;
      })
      .catch(function () {})
      .then(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  // One stream per page shown. A page kept in the browser's back/forward cache must let go
  // of its stream, or six cached pages hold every connection the browser allows to this
  // host and the next page waits a minute.
  var source = null;
  function open() {
    if (source) return;
    source = new EventSource("/events");
    source.addEventListener("change", refresh);
  }
  function close() {
    if (source) { source.close(); source = null; }
  }
  window.addEventListener("pagehide", close);
  window.addEventListener("pageshow", function (e) {
    open();
    if (e.persisted) refresh();
  });
  open();
})();

// The backup page's "Print" button, shown only where it works (the browser's own menu
// prints the page too).
(function () {
  "use strict";
  var button = document.querySelector("[data-action=print]");
  if (!button || !window.print) return;
  button.hidden = false;
  button.addEventListener("click", function () { window.print(); });
})();
