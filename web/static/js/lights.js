// Virtual light panel (/lights) and device health (/devices): a snapshot on connect, then
// changes over the /lights namespace. A tap on a lit simulated light presses it on the bus.
(function () {
  "use strict";
  var dot = document.getElementById("live-state");
  var textEl = document.getElementById("ptl-text");
  var text = textEl ? JSON.parse(textEl.textContent) : {};
  var labelsEl = document.getElementById("health-labels");
  var labels = labelsEl ? JSON.parse(labelsEl.textContent) : {};
  var feedback = document.getElementById("press-feedback");
  var csrf = document.querySelector('meta[name="csrf-token"]');

  function fill(template, params) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, key) {
      return params && params[key] !== undefined ? params[key] : "";
    });
  }
  function say(message, ok) {
    if (!feedback) return;
    feedback.textContent = message;
    feedback.className = "ptl-feedback " + (ok ? "ok" : "bad");
  }
  function lightButton(device, location) {
    return document.querySelector('.ptl-light[data-device="' + CSS.escape(device) +
      '"][data-location="' + CSS.escape(location) + '"]');
  }
  function showLights(buses) {
    buses.forEach(function (bus) {
      bus.lights.forEach(function (light) {
        var el = lightButton(bus.device, light.location);
        if (!el) return;
        el.className = el.className.replace(/\b(light|mode)-\S+/g, "").trim() +
          " light-" + light.color + " mode-" + light.mode;
        el.dataset.lit = light.lit ? "true" : "false";
        el.querySelector(".ptl-qty").textContent = light.lit ? light.qty : "";
      });
    });
  }
  function showHealth(devices) {
    devices.forEach(function (d) {
      var card = document.getElementById("device-" + d.name);
      if (!card) return;
      var badge = card.querySelector('[data-field="label"]');
      badge.textContent = labels[d.label] || d.label;
      badge.className = "badge health-" + d.state;
      card.querySelector('[data-field="detail"]').textContent = d.detail;
      var seen = card.querySelector('[data-field="last_seen"]');
      if (d.last_seen) seen.textContent = new Date(d.last_seen * 1000).toLocaleTimeString();
      Object.keys(d.counters).forEach(function (name) {
        var cell = card.querySelector('[data-counter="' + name + '"]');
        if (cell) cell.textContent = d.counters[name];
      });
    });
  }
  document.querySelectorAll('[data-field="last_seen"]').forEach(function (el) {
    if (el.dataset.ts) el.textContent = new Date(Number(el.dataset.ts) * 1000).toLocaleTimeString();
  });

  document.addEventListener("click", function (event) {
    var el = event.target.closest(".ptl-light");
    if (!el || el.disabled) return;
    var shortMode = document.getElementById("short-mode");
    var body = { device: el.dataset.device, location: el.dataset.location, button: "confirm" };
    if (shortMode && shortMode.checked) {
      body.button = "short";
      body.quantity = parseInt(document.getElementById("short-qty").value, 10) || 0;
    }
    fetch("/lights/press", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!data.ok) say(data.message, false);
      });
    }).catch(function () { say(text.failed, false); });
  });

  function wallSay(device, answer) {
    var el = document.querySelector('.ptl-wall-msg[data-wall="' + CSS.escape(device) + '"]');
    if (!el) return;
    var key = answer.reason === "put_done" && answer.params && answer.params.full ? "put_full" : answer.reason;
    el.textContent = answer.message || fill(text[key] || answer.reason, answer.params);
    el.className = "ptl-feedback ptl-wall-msg " + (answer.ok ? "ok" : "bad");
  }
  document.querySelectorAll(".ptl-wall-scan").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var input = form.querySelector("input[name=code]");
      var device = form.dataset.device;
      var id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random();
      fetch("/lights/wall-scan", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
        body: JSON.stringify({ device: device, code: input.value, client_id: "wall-" + id })
      }).then(function (response) { return response.json(); })
        .then(function (answer) { wallSay(device, answer); })
        .catch(function () { wallSay(device, { ok: false, message: text.failed }); });
      input.value = "";
      input.focus();
    });
  });

  if (typeof io === "undefined") {  // assets not built: the page shows the snapshot only
    if (dot) { dot.textContent = dot.dataset.offline; dot.className = "live live-off"; }
    return;
  }
  var socket = io("/lights", { transports: ["websocket"] });
  socket.on("connect", function () { dot.textContent = dot.dataset.online; dot.className = "live live-on"; });
  socket.on("disconnect", function () { dot.textContent = dot.dataset.offline; dot.className = "live live-off"; });
  socket.on("lights", showLights);
  socket.on("health", showHealth);
  socket.on("wall", function (answer) { wallSay(answer.device, answer); });
  socket.on("press", function (p) {
    if (p.ok) say(fill(text[p.reason], p.params), true);
    else say(fill(text[p.reason] || text.refused, p.params), false);
  });
})();
