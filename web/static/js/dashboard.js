// Floor dashboard: a snapshot on connect, then only the panels that changed, and new picks.
// Actions go to the REST API (/api/v1/actions/...) with the session's CSRF token; the server
// checks the role and writes the audit log.
(function () {
  "use strict";
  var root = document.getElementById("dashboard");
  var T = JSON.parse(root.dataset.text);
  var API = root.dataset.api;
  var CSRF = document.querySelector('meta[name="csrf-token"]').content;
  var dot = document.getElementById("live-state");
  var chart = null;
  var ticker = [];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") node.textContent = attrs[k];
      else if (k === "class") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }
  function fill(id, nodes) {
    var box = document.getElementById(id);
    box.replaceChildren.apply(box, nodes);
  }
  function words(s) { return String(s || "").replace(/_/g, " "); }
  function time(iso) {
    return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  }
  function num(v) { return v === null || v === undefined ? "–" : Number(v).toLocaleString(); }
  function button(label, handler, cls) {
    var b = el("button", { type: "button", class: "btn btn-small " + (cls || ""), text: label });
    b.addEventListener("click", handler);
    return b;
  }

  function act(path, body) {
    var result = document.getElementById("action-result");
    return fetch(API + "/actions/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRFToken": CSRF },
      credentials: "same-origin",
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (data) {
        result.textContent = r.ok ? T.done + " " + data.action + " " + data.target
                                  : T.failed + " " + (data.message || r.status);
        result.className = r.ok ? "hint ok" : "hint error";
      });
    }).catch(function (e) { result.textContent = T.failed + " " + e; result.className = "hint error"; });
  }
  function ask(path, extra) {
    var reason = window.prompt(T.reason, "");
    if (reason === null) return;
    act(path, Object.assign({ reason: reason }, extra || {}));
  }

  // --- panels ------------------------------------------------------------------------------
  var render = {
    kpis: function (k) {
      document.querySelectorAll("[data-kpi]").forEach(function (node) {
        if (node.dataset.kpi in k) node.textContent = num(k[node.dataset.kpi]);
      });
    },
    orders: function (o) {
      fill("orders-by-status", Object.keys(o.by_status).map(function (s) {
        return el("li", {}, [el("span", { class: "badge status-" + s, text: words(s) }),
          el("span", { text: " " + o.by_status[s] })]);
      }));
      fill("cut-offs", o.cut_offs.map(function (c) {
        var flag = c.overdue ? T.overdue : (c.at_risk ? T.at_risk : "");
        return el("tr", { class: c.overdue || c.at_risk ? "at-risk" : "" }, [
          el("td", { text: new Date(c.cut_off).toLocaleString([], { weekday: "short", hour: "2-digit", minute: "2-digit" }) }),
          el("td", { class: "num", text: num(c.open) }),
          el("td", { class: "num", text: num(c.not_picked) }),
          el("td", {}, [flag ? el("span", { class: "badge risk", text: flag }) : null])]);
      }));
    },
    waves: function (waves) {
      if (!waves.length) { fill("waves", [el("tr", {}, [el("td", { colspan: "5", text: T.no_waves })])]); return; }
      fill("waves", waves.map(function (w) {
        var bar = el("div", { class: "bar" }, [el("span", { style: "width:" + w.progress + "%" })]);
        var release = button(T.release, function () { ask("waves/" + encodeURIComponent(w.code) + "/release"); });
        var actions = w.status === "planned"
          ? [release, button(T.hold, function () { ask("waves/" + encodeURIComponent(w.code) + "/hold"); }, "btn-secondary")]
          : w.status === "held" ? [release] : [];
        return el("tr", { "data-wave": w.code }, [
          el("td", { text: w.code }), el("td", { text: words(w.status) }),
          el("td", { class: "num", text: num(w.orders) }),
          el("td", {}, [bar, el("small", { text: w.tasks_closed + "/" + w.tasks })]),
          el("td", {}, actions)]);
      }));
    },
    zones: function (zones) {
      fill("zones", zones.map(function (z) {
        return el("tr", {}, [el("td", {}, [el("strong", { text: z.code }), document.createTextNode(" " + z.name)]),
          el("td", { class: "num", text: num(z.picks_per_hour) })]);
      }));
    },
    pickers: function (pickers) {
      if (!pickers.length) { fill("pickers", [el("tr", {}, [el("td", { colspan: "6", text: T.no_pickers })])]); return; }
      fill("pickers", pickers.map(function (p) {
        var task = p.location ? p.location + " · " + p.sku + " × " + p.quantity + " (" + p.tasks_left + " " + T.tasks_left + ")"
                              : (p.batch ? "" : T.idle);
        var actions = [button(p.paused ? T.resume : T.pause, function () {
          ask("pickers/" + encodeURIComponent(p.username) + "/pause", { paused: !p.paused });
        }, "btn-secondary")];
        if (p.task_id) {
          actions.push(button(T.cancel_pick, function () {
            ask("tasks/" + p.task_id + "/cancel");
          }, "btn-secondary"));
        }
        if (p.batch) {
          actions.push(button(T.reassign, function () {
            var who = window.prompt(T.picker_prompt, "");
            if (who === null) return;
            ask("batches/" + encodeURIComponent(p.batch) + "/reassign", { picker: who.trim() || null });
          }));
        }
        return el("tr", { "data-picker": p.username, class: p.paused ? "paused" : "" }, [
          el("td", {}, [el("strong", { text: p.name }), el("small", { text: " " + p.username + (p.paused ? " · " + T.paused : "") })]),
          el("td", { text: p.batch || "" }), el("td", { text: p.zone || "" }),
          el("td", { text: task }), el("td", { class: "num", text: num(p.picks_last_hour) }),
          el("td", {}, actions)]);
      }));
    },
    exceptions: function (x) {
      var tile = document.querySelector('[data-kpi="open_exceptions"]');
      if (tile) tile.textContent = num(x.open);
      if (!x.items.length) { fill("exceptions", [el("tr", {}, [el("td", { colspan: "7", text: T.no_exceptions })])]); return; }
      fill("exceptions", x.items.map(function (e) {
        var base = "exceptions/" + e.id + "/resolve";
        return el("tr", { "data-exception": String(e.id) }, [
          el("td", { text: words(e.kind) }), el("td", { text: e.order || "" }),
          el("td", { text: e.location || "" }), el("td", { text: e.sku || "" }),
          el("td", { class: "num", text: num(e.quantity) }), el("td", { text: e.detail }),
          el("td", {}, [
            button(T.reallocate, function () { ask(base, { resolution: "reallocate" }); }),
            button(T.backorder, function () { ask(base, { resolution: "backorder" }); }, "btn-secondary"),
            button(T.adjust, function () {
              var counted = window.prompt(T.counted_prompt, "");
              if (counted === null) return;
              ask(base, { resolution: "adjust_stock", counted: parseInt(counted, 10) });
            }, "btn-secondary")])]);
      }));
    },
    devices: function (d) {
      if (!d.configured) { fill("devices", [el("li", { text: T.no_devices })]); return; }
      fill("devices", d.items.map(function (h) {
        // A bus has many units: count the healthy ones, name only those that are not.
        var names = Object.keys(h.parts || {});
        var bad = names.filter(function (k) { return h.parts[k] !== "online" && h.parts[k] !== "ok"; });
        var parts = names.length ? (names.length - bad.length) + "/" + names.length + " " + T.units_ok +
          (bad.length ? "; " + bad.map(function (k) { return k + ": " + h.parts[k]; }).join(", ") : "") : "";
        return el("li", { class: "device state-" + h.state, "data-device": h.name }, [
          el("span", { class: "dot" }), el("strong", { text: h.name }),
          el("span", { text: " " + words(h.kind) + " · " + h.label + (h.detail ? " · " + h.detail : "") }),
          parts ? el("small", { text: " (" + parts + ")" }) : null]);
      }));
    },
    print_jobs: function (p) {
      var printers = {};
      ((p && p.printers) || []).forEach(function (v) { printers[v.name] = v; });
      var names = Object.keys(Object.assign({}, printers, (p && p.by_printer) || {})).sort();
      if (!names.length) { fill("print-jobs", [el("li", { text: T.no_printers })]); return; }
      var items = names.map(function (name) {
        var states = (p.by_printer || {})[name] || {}, status = printers[name];
        // Red when the printer cannot print now (paper out, head open...) or a job failed.
        var bad = (states.failed || 0) > 0 || (status && !status.can_print);
        var jobs = Object.keys(states).map(function (s) { return words(s) + " " + states[s]; }).join(" · ");
        var said = status ? words(status.state) + (status.message ? " (" + status.message + ")" : "") : "";
        return el("li", { class: "device " + (bad ? "state-device_fault" : "state-ok"), "data-printer": name,
                          "data-printer-state": status ? status.state : "" }, [
          el("span", { class: "dot" }), el("strong", { text: name }),
          el("span", { text: " " + [said, jobs].filter(Boolean).join(" · ") })]);
      });
      p.failed.forEach(function (f) {
        items.push(el("li", { class: "hint error", "data-job": String(f.id) }, [
          el("span", { text: f.printer + " #" + f.id + ": " + f.error + " " }),
          button(T.reprint, function () { ask("print-jobs/" + f.id + "/reprint"); }),
          button(T.void, function () { ask("print-jobs/" + f.id + "/void"); }, "btn-secondary")]));
      });
      fill("print-jobs", items);
    },
    audit: function (rows) {
      fill("audit", rows.map(function (a) {
        return el("li", { text: time(a.at) + " " + a.username + " · " + words(a.action) + " " + a.target + (a.reason ? " · " + a.reason : "") });
      }));
    },
    chart: function (c) {
      var labels = c.labels.map(time);
      if (typeof Chart === "undefined") return;  // assets not built: the rest still works
      if (chart) {
        chart.data.labels = labels;
        chart.data.datasets[0].data = c.picks;
        chart.update("none");
        return;
      }
      chart = new Chart(document.getElementById("throughput-chart"), {
        type: "bar",
        data: { labels: labels, datasets: [{ label: T.picks, data: c.picks, backgroundColor: "#2f6fde" }] },
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
                   scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
  };

  function apply(panels) {
    Object.keys(render).forEach(function (key) {
      if (key in panels) render[key](panels[key]);
    });
    if (panels.at) document.getElementById("updated-at").textContent = time(panels.at);
  }
  function addPicks(picks) {
    ticker = ticker.concat(picks).slice(-15);
    fill("pick-ticker", ticker.slice().reverse().map(function (p) {
      return el("li", { "data-pick": String(p.id) }, [el("small", { text: time(p.at) + " " }),
        el("strong", { text: p.picker || "" }),
        el("span", { text: " " + p.location + " · " + p.sku + " × " + p.quantity })]);
    }));
  }

  document.getElementById("order-action").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    var action = event.submitter ? event.submitter.value : "expedite";
    act("orders/" + encodeURIComponent(form.number.value.trim()) + "/" + action, { reason: form.reason.value });
  });

  if (typeof io === "undefined") { dot.textContent = T.offline; return; }
  var socket = io("/dashboard", { transports: ["websocket"] });
  socket.on("connect", function () { dot.textContent = T.online; dot.className = "live live-on"; });
  socket.on("disconnect", function () { dot.textContent = T.offline; dot.className = "live live-off"; });
  socket.on("snapshot", function (data) { ticker = []; addPicks(data.recent_picks || []); apply(data); });
  socket.on("update", apply);
  socket.on("picks", addPicks);
})();
