// Progressive enhancement only: every page works without this script.
(function () {
  "use strict";

  // Copy buttons: copy the named input's value and say so.
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copy);
      if (!input) { return; }
      input.select();
      var label = button.firstChild;
      var done = function () { label.nodeValue = "Copied"; setTimeout(function () { label.nodeValue = "Copy"; }, 2000); };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  function poll(url, everyMs, onData) {
    var stopped = false;
    function tick() {
      if (stopped) { return; }
      fetch(url(), { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data && onData(data) === false) { stopped = true; } })
        .catch(function () {})
        .then(function () { if (!stopped) { setTimeout(tick, everyMs); } });
    }
    setTimeout(tick, everyMs);
  }

  // The credentials page waits for the IdP's first request.
  var first = document.getElementById("first-request");
  if (first) {
    poll(function () { return first.dataset.url; }, 2000, function (data) {
      if (!data.arrived) { return true; }
      first.textContent = "First request received " + data.at + ": " + data.method + " " + data.path +
        " answered " + data.status + (data.ok ? " (succeeded)." : " (failed" + (data.detail ? ": " + data.detail : "") + ").");
      first.className = data.ok ? "ok" : "bad";
      return false;
    });
  }

  // The provisioning log's live tail: prepend rows newer than the newest shown.
  var table = document.getElementById("log");
  if (table && !/[?&]before=/.test(location.search)) {
    var state = document.getElementById("tail-state");
    var newest = parseInt(table.dataset.newest || "0", 10);
    if (state) { state.textContent = "Live: new requests appear here."; }
    poll(function () {
      var q = table.dataset.query ? table.dataset.query + "&" : "";
      return table.dataset.tail + "?" + q + "after=" + newest;
    }, 2000, function (data) {
      var body = table.tBodies[0];
      if (data.entries.length) { body.querySelectorAll("tr.empty").forEach(function (r) { r.remove(); }); }
      data.entries.slice().reverse().forEach(function (e) {
        newest = Math.max(newest, e.id);
        var row = body.insertRow(0);
        if (e.status >= 400) { row.className = "error"; }
        var link = document.createElement("a");
        link.href = e.href;
        link.textContent = e.at;
        row.insertCell().appendChild(link);
        var cells = [e.method, e.path + (e.query ? "?" + e.query : ""), String(e.status),
          e.scim_type + (e.scim_type && e.detail ? ": " : "") + e.detail, e.latency_ms.toFixed(1) + " ms", e.idp];
        cells.forEach(function (text, i) {
          var cell = row.insertCell();
          cell.textContent = text;
          if (i === 1) { cell.className = "path"; }
        });
        var code = document.createElement("code");
        code.textContent = e.request_id;
        row.insertCell().appendChild(code);
      });
      return true;
    });
  }
})();
