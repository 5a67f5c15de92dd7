// Loading at a dock door: each scanned parcel label goes on its carrier's open shipment here;
// a shipment leaves with "ship". Talks to /api/v1/docks/... and /api/v1/shipments.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var root = $("dock");
  var DOCK = root.dataset.dock, API = root.dataset.api;
  var S = window.PACK_STATES, W = window.PACK_WORDS;
  var CSRF = document.querySelector('meta[name="csrf-token"]').content;

  function fmt(text, params) {
    return String(text).replace(/%\((\w+)\)s/g, function (_m, key) {
      return params && params[key] !== undefined && params[key] !== null ? params[key] : "";
    });
  }
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function api(method, path, body) {
    var init = { method: method, credentials: "same-origin", headers: { "Accept": "application/json" } };
    if (method !== "GET") {
      init.headers["X-CSRFToken"] = CSRF;
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body || {});
    }
    return fetch(API + path, init).then(function (response) {
      return response.json().then(function (data) { return { ok: response.ok, data: data }; });
    });
  }
  function feedback(ok, text) {
    var box = $("feedback");
    box.textContent = text;
    box.className = "pack-feedback " + (ok ? "ok" : "bad");
  }

  function refresh() {
    return api("GET", "/shipments?status=open&dock=" + encodeURIComponent(DOCK)).then(function (result) {
      var box = $("shipments");
      box.textContent = "";
      if (!result.ok) return;
      if (!result.data.items.length) { box.appendChild(el("p", W.nothing_open, "hint")); return; }
      result.data.items.forEach(function (shipment) {
        var card = el("section", null, "card");
        card.dataset.shipment = shipment.id;
        card.appendChild(el("h2", "#" + shipment.id + " " + shipment.carrier));
        var list = el("ul");
        shipment.parcels.forEach(function (p) {
          list.appendChild(el("li", p.order + " #" + p.number + " · " + (p.sscc || p.tracking_number) + " · " + (S[p.status] || p.status)));
        });
        card.appendChild(list);
        var go = el("button", W.ship, "btn btn-primary");
        go.type = "button";
        go.addEventListener("click", function () {
          api("POST", "/shipments/" + shipment.id + "/ship").then(function (answer) {
            if (answer.ok) feedback(true, fmt(W.shipped, { shipment: shipment.id }));
            else feedback(false, answer.data.message);
            refresh();
          });
        });
        card.appendChild(go);
        box.appendChild(card);
      });
    });
  }

  function onScan(code) {
    api("POST", "/docks/" + encodeURIComponent(DOCK) + "/load", { scan: code }).then(function (result) {
      if (!result.ok) { feedback(false, result.data.message); return; }
      feedback(true, fmt(W.loaded, { parcel: result.data.parcel.number, order: result.data.order }));
      refresh();
    });
  }

  WmsScanInput.listen(onScan);
  $("manual").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = $("manual-code").value.trim();
    $("manual-code").value = "";
    if (code) onScan(code);
  });
  refresh();
})();
