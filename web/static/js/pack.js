// The pack station screen: open an order by scan, verify each unit by scan, close parcels,
// follow the labels to the printer. Talks to /api/v1/pack/... with the browser session.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var root = $("pack");
  var STATION = root.dataset.station, API = root.dataset.api;
  var T = window.PACK_TEXT, S = window.PACK_STATES, W = window.PACK_WORDS;
  var CSRF = document.querySelector('meta[name="csrf-token"]').content;
  var current = null; // the order's pack view

  function fmt(text, params) {
    return String(text).replace(/%\((\w+)\)s/g, function (_m, key) {
      return params && params[key] !== undefined && params[key] !== null ? params[key] : "";
    });
  }
  function word(state) { return S[state] || state; }
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
      return response.json().then(function (data) { return { ok: response.ok, data: data }; },
        function () { return { ok: response.ok, data: {} }; });
    });
  }

  function feedback(ok, text) {
    var box = $("feedback");
    box.textContent = text;
    box.className = "pack-feedback " + (ok === true ? "ok" : ok === false ? "bad" : "");
  }

  function answer(result) {
    if (!result.ok) { feedback(false, result.data.message || W.offline); return false; }
    return true;
  }

  // ---- rendering
  function render(view) {
    current = view;
    $("order").hidden = false;
    $("o-number").textContent = view.number;
    $("o-ship-to").textContent = view.ship_to;
    $("o-carrier").textContent = [view.carrier, view.service, view.dock].filter(Boolean).join(" · ");
    var body = $("lines").querySelector("tbody");
    body.textContent = "";
    view.lines.forEach(function (line) {
      if (!line.picked) return;
      var row = el("tr", null, line.remaining === 0 ? "line-done" : "");
      row.dataset.sku = line.sku;
      [line.sku, line.name, line.lots.join(", "), line.picked, line.in_parcel, line.remaining]
        .forEach(function (value) { row.appendChild(el("td", String(value))); });
      body.appendChild(row);
    });
    var open = view.parcels.filter(function (p) { return p.status === "open"; })[0];
    var packed = view.status === "packed" || view.status === "shipped";
    $("parcel").hidden = packed || (!open && view.remaining === 0);
    $("p-number").textContent = open ? open.number : "";
    var list = $("p-contents");
    list.textContent = "";
    (open ? open.contents : []).forEach(function (c) {
      var item = el("li", c.quantity + " × " + c.sku + (c.lot ? " (" + c.lot + ")" : "") + (c.serial ? " #" + c.serial : "") + " ");
      var out = el("button", W.remove, "btn btn-secondary btn-small");
      out.type = "button";
      out.addEventListener("click", function () { takeOut(c.id); });
      item.appendChild(out);
      list.appendChild(item);
    });
    if (view.suggested_carton) {
      $("suggested").textContent = fmt(W.suggested, { carton: view.suggested_carton });
      $("carton").value = view.suggested_carton;
    } else {
      $("suggested").textContent = W.none_fits;
    }
    $("weight").placeholder = view.estimated_weight_g ? String(view.estimated_weight_g) : "";
    var closed = view.parcels.filter(function (p) { return p.status !== "open"; });
    $("done").hidden = closed.length === 0;
    $("packing-list").hidden = closed.length === 0;
    $("packing-list").href = API + "/pack/orders/" + encodeURIComponent(view.number) + "/packing-list.pdf";
    // Labels as PDF: for a station without a Zebra, or to print one again on any printer.
    $("labels-pdf").hidden = closed.length === 0;
    $("labels-pdf").href = API + "/pack/orders/" + encodeURIComponent(view.number) + "/labels.pdf";
    var pbody = $("parcels").querySelector("tbody");
    pbody.textContent = "";
    closed.forEach(function (p) {
      var row = el("tr");
      [p.number, p.carton, p.weight_g, p.sscc || p.tracking_number, word(p.status)]
        .forEach(function (value) { row.appendChild(el("td", value === null ? "" : String(value))); });
      pbody.appendChild(row);
    });
    if (view.print_jobs) renderJobs(view.print_jobs);
  }

  function renderJobs(jobs) {
    var body = $("jobs").querySelector("tbody");
    body.textContent = "";
    jobs.forEach(function (job) {
      var row = el("tr", null, "job job-" + job.state);
      row.dataset.job = job.id;
      row.appendChild(el("td", String(job.id)));
      row.appendChild(el("td", job.document));
      var state = el("td"); state.appendChild(el("span", word(job.state), "chip state-" + job.state));
      row.appendChild(state);
      row.appendChild(el("td", String(job.attempts)));
      row.appendChild(el("td", job.last_error));
      var actions = el("td");
      var link = el("a", W.preview, "btn btn-secondary");
      link.href = API + "/print-jobs/" + job.id + "/preview.pdf";
      link.target = "_blank";
      actions.appendChild(link);
      var again = el("button", W.reprint, "btn btn-secondary");
      again.type = "button";
      again.addEventListener("click", function () { jobAction(job.id, "reprint"); });
      actions.appendChild(again);
      if (job.state === "queued" || job.state === "failed") {
        var stop = el("button", W.void, "btn btn-secondary");
        stop.type = "button";
        stop.addEventListener("click", function () { jobAction(job.id, "void"); });
        actions.appendChild(stop);
      }
      row.appendChild(actions);
      body.appendChild(row);
    });
  }

  function jobAction(id, action) {
    api("POST", "/print-jobs/" + id + "/" + action).then(function (result) {
      if (answer(result)) refreshStation();
    });
  }

  function takeOut(contentId) {
    api("POST", "/pack/orders/" + encodeURIComponent(current.number) + "/contents/" + contentId + "/remove")
      .then(function (result) { if (answer(result)) render(result.data); });
  }

  // ---- scans
  function onScan(code) {
    var packing = current && current.status === "picked";
    var request = packing
      ? api("POST", "/pack/orders/" + encodeURIComponent(current.number) + "/scan", { scan: code, station: STATION })
      : api("POST", "/pack/stations/" + STATION + "/open", { scan: code });
    request.then(function (result) {
      if (!packing && !result.ok && current && result.data.reason === "unknown_order") {
        feedback(false, result.data.message);
        return;
      }
      if (!answer(result)) return;
      render(result.data);
      feedback(true, result.data.answer ? result.data.answer.message : result.data.number);
    }, function () { feedback(false, W.offline); });
  }

  function close(split) {
    if (!current) return;
    var weight = parseInt($("weight").value, 10);
    api("POST", "/pack/orders/" + encodeURIComponent(current.number) + "/close", {
      carton: $("carton").value, weight_g: isNaN(weight) ? 0 : weight, split: split, station: STATION
    }).then(function (result) {
      if (!answer(result)) return;
      $("weight").value = "";
      render(result.data);
      feedback(true, result.data.answer.message);
      refreshStation();
    }, function () { feedback(false, W.offline); });
  }

  // ---- the printer and its jobs
  function refreshStation() {
    return api("GET", "/pack/stations/" + STATION).then(function (result) {
      if (!result.ok) return;
      var printer = result.data.printer;
      var chip = $("printer-state");
      if (printer && chip) {
        chip.textContent = word(printer.state);
        chip.title = printer.message;
        chip.className = "chip printer-" + (printer.can_print ? "ok" : "bad");
        chip.dataset.state = printer.state;
      }
      renderJobs(result.data.print_jobs);
    });
  }

  // The station's serial scanner: the server reads it; the screen long-polls for its scans.
  function pollScanner(after) {
    api("GET", "/pack/stations/" + STATION + "/scans?after=" + after + "&wait=20").then(function (result) {
      if (!result.ok) { setTimeout(function () { pollScanner(after); }, 2000); return; }
      result.data.scans.forEach(function (scan) { onScan(scan.raw); });
      pollScanner(result.data.last);
    }, function () { setTimeout(function () { pollScanner(after); }, 2000); });
  }

  WmsScanInput.listen(onScan);
  $("manual").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = $("manual-code").value.trim();
    $("manual-code").value = "";
    if (code) onScan(code);
  });
  $("close").addEventListener("submit", function (event) { event.preventDefault(); close(false); });
  $("close-split").addEventListener("click", function () { close(true); });
  refreshStation();
  setInterval(refreshStation, 2000);
  if (root.dataset.scanner) {
    // The first answer only says where the sequence is: scans made before the page opened
    // belong to no one.
    api("GET", "/pack/stations/" + STATION + "/scans?after=0&wait=0").then(function (result) {
      pollScanner(result.ok ? result.data.last : 0);
    });
  }
})();
