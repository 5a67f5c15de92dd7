// The picker's handheld. Scans come from a keyboard-wedge scanner (a burst of keys ending in
// Enter) or the manual field. Every scan or action is first written to IndexedDB (the outbox),
// then sent over Socket.IO; it leaves the outbox only when the server has answered, so a lost
// connection, a reload or a dead battery loses nothing that was shown as kept.
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("hh-text").textContent);
  var $ = function (id) { return document.getElementById(id); };
  var current = null;      // the last snapshot from the server
  var socket = null;
  var paused = false;

  function fmt(text, params) {
    return text.replace(/%\((\w+)\)s/g, function (_m, key) {
      return params && params[key] !== undefined && params[key] !== null ? params[key] : "";
    });
  }

  // ---- client ids: crypto.randomUUID needs a secure context, which a LAN handheld may lack.
  function uuid() {
    if (window.crypto && crypto.randomUUID) { try { return crypto.randomUUID(); } catch (e) { /* not secure */ } }
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // ---- the outbox, in IndexedDB
  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var request = indexedDB.open("wms-handheld", 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("outbox", { keyPath: "seq", autoIncrement: true });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return dbPromise;
  }
  function store(mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("outbox", mode);
        var request = work(tx.objectStore("outbox"));
        tx.oncomplete = function () { resolve(request ? request.result : undefined); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function outboxAdd(entry) { return store("readwrite", function (s) { return s.add(entry); }); }
  function outboxRemove(seq) { return store("readwrite", function (s) { return s.delete(seq); }); }
  function outboxAll() { return store("readonly", function (s) { return s.getAll(); }); }

  function showPending() {
    return outboxAll().then(function (items) {
      var el = $("pending");
      el.hidden = items.length === 0;
      el.textContent = fmt(T.pending, { count: items.length });
      return items;
    });
  }

  // ---- sending, strictly in order, one at a time
  var flushing = false;
  function flush() {
    if (flushing || !socket || !socket.connected) return Promise.resolve();
    flushing = true;
    return outboxAll().then(function (items) {
      items.sort(function (a, b) { return a.seq - b.seq; });
      var chain = Promise.resolve();
      items.forEach(function (item) {
        chain = chain.then(function () {
          if (!socket.connected) throw new Error("offline");
          return socket.timeout(8000).emitWithAck(item.event, item.payload).then(function (answer) {
            return outboxRemove(item.seq).then(function () { answered(answer); });
          });
        });
      });
      return chain;
    }).catch(function () { /* stays in the outbox; sent on the next connect */ })
      .then(function () { flushing = false; return showPending(); });
  }

  function send(event, payload) {
    payload.client_id = uuid();
    payload.scanned_at = new Date().toISOString();
    return outboxAdd({ event: event, payload: payload }).then(function () {
      if (!socket || !socket.connected) feedback(null, T.queued);
      return showPending();
    }).then(flush);
  }

  // ---- feedback: colour, sound and vibration, clearly different for right and wrong
  var audio = null;
  function tone(ok) {
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = ok ? "sine" : "square";
      osc.frequency.value = ok ? 1800 : 220;
      gain.gain.value = 0.2;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + (ok ? 0.12 : 0.5));
    } catch (e) { /* no audio on this device */ }
  }
  function feedback(ok, text) {
    var el = $("feedback");
    el.textContent = text || "";
    el.className = "hh-feedback " + (ok === null ? "info" : ok ? "ok" : "bad");
    el.dataset.result = ok === null ? "info" : ok ? "ok" : "bad";
    if (ok === null) return;
    tone(ok);
    if (!ok && navigator.vibrate) navigator.vibrate([250, 100, 250]);
    document.body.classList.add(ok ? "flash-ok" : "flash-bad");
    setTimeout(function () { document.body.classList.remove("flash-ok", "flash-bad"); }, 350);
  }

  function answered(answer) {
    if (!answer) return;
    if (answer.reason === "signed_out") { window.location.href = "/badge"; return; }
    feedback(!!answer.ok, answer.message || "");
    if (answer.snapshot) render(answer.snapshot);
  }

  // ---- the screen
  function render(snap) {
    current = snap;
    $("paused").hidden = !paused;
    if (paused) { $("idle").hidden = true; $("work").hidden = true; $("actions").hidden = true; return; }
    var batch = snap.batch, task = snap.task;
    $("app").dataset.state = snap.step;
    $("idle").hidden = !!batch;
    $("work").hidden = !batch;
    $("actions").hidden = !task || snap.step === "tote_start";
    $("progress").textContent = batch ? batch.done + " / " + batch.total : "";
    $("batch-code").textContent = batch ? batch.code : "";
    if (!batch) return;
    var instruction = T["step_" + snap.step] || "";
    var position = task ? task.tote_position : "";
    if (snap.step === "tote_start") {
      var free = batch.totes.filter(function (t) { return !t.tote; })[0];
      position = free ? free.position : "";
    }
    $("instruction").textContent = fmt(instruction, { position: position });
    $("t-location").textContent = task ? task.location : "";
    $("t-item").textContent = task ? task.item : "";
    $("t-desc").textContent = task ? task.sku + (task.lot ? " · " + T.lot + " " + task.lot : "") : "";
    $("t-qty").textContent = task ? task.quantity : "";
    $("t-unit").textContent = task && task.unit !== "each" ? task.unit : "";
    $("t-tote").textContent = task ? task.tote_position : position;
    $("t-counted").textContent = task ? fmt(T.counted, { counted: task.scanned, quantity: task.quantity }) : "";
    $("confirm").hidden = snap.step !== "confirm";
  }

  // ---- scanner input: a burst of keys (typically under ~40 ms apart) ending in Enter is a scan.
  // The median gap decides, not the mean: one stall of a busy handheld in the middle of a
  // burst must not turn the scan into typing nor cut off its first characters.
  var buffer = "", gaps = [], last = 0;
  function medianGap() {
    var sorted = gaps.slice().sort(function (a, b) { return a - b; });
    return sorted[Math.floor(sorted.length / 2)];
  }
  var manualField = $("manual-code");
  document.addEventListener("keydown", function (event) {
    var inManual = document.activeElement === manualField;
    var now = performance.now();
    if (event.key === "Enter") {
      var burst = buffer.length >= 3 && gaps.length > 0 && medianGap() < 40;
      var code = buffer;
      buffer = ""; gaps = [];
      if (burst) {
        event.preventDefault();
        if (inManual) manualField.value = "";
        if (paused) { feedback(false, T.paused); return; }
        send("scan", { raw: code });
      }
      return;
    }
    if (event.key.length !== 1) return;
    if (now - last > 1000) { buffer = ""; gaps = []; } else if (buffer) { gaps.push(now - last); }
    last = now;
    buffer += event.key;
    if (!inManual) event.preventDefault();
  });
  $("manual").addEventListener("submit", function (event) {
    event.preventDefault();
    var code = manualField.value.trim();
    manualField.value = "";
    if (code) send("scan", { raw: code });
  });

  // ---- actions
  $("take").addEventListener("click", function () {
    if (!socket || !socket.connected) { feedback(false, T.offline); return; }
    socket.timeout(8000).emitWithAck("take_batch", {}).then(function (answer) {
      if (answer.snapshot) render(answer.snapshot);
      if (!answer.ok) feedback(null, T.none_free);
    }).catch(function () { feedback(false, T.offline); });
  });
  var shortKind = "short_pick", found = 0;
  document.querySelectorAll("[data-short]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (!current || !current.task) return;
      shortKind = button.dataset.short; found = 0;
      $("found").textContent = "0";
      $("short-dialog").hidden = false;
      $("actions").hidden = true;
    });
  });
  $("found-plus").addEventListener("click", function () {
    if (current && current.task && found < current.task.quantity - 1) found += 1;
    $("found").textContent = found;
  });
  $("found-minus").addEventListener("click", function () {
    if (found > 0) found -= 1;
    $("found").textContent = found;
  });
  $("short-cancel").addEventListener("click", function () {
    $("short-dialog").hidden = true; $("actions").hidden = false;
  });
  $("short-send").addEventListener("click", function () {
    $("short-dialog").hidden = true;
    send("short", { task_id: current.task.id, found: found, kind: shortKind });
  });
  $("skip").addEventListener("click", function () {
    if (current && current.task) send("skip", { task_id: current.task.id });
  });
  $("pause").addEventListener("click", function () {
    paused = true;
    send("pause", { paused: true });
    render(current);
  });
  $("resume").addEventListener("click", function () {
    paused = false;
    send("pause", { paused: false });
    render(current);
  });
  $("confirm").addEventListener("click", function () {
    if (current && current.task) send("confirm", { task_id: current.task.id });
  });

  // ---- connection
  function setConnected(on) {
    var el = $("conn");
    el.textContent = on ? T.online : T.offline;
    el.className = "live " + (on ? "live-on" : "live-off");
  }
  showPending();
  if (typeof io === "undefined") { setConnected(false); return; }
  socket = io("/handheld", { transports: ["websocket"] });
  socket.on("connect", function () { setConnected(true); flush(); });
  socket.on("disconnect", function () { setConnected(false); });
  socket.on("snapshot", function (snap) {
    if (typeof snap.paused === "boolean") paused = snap.paused;  // on (re)connect
    render(snap);
  });
  // A supervisor paused or resumed this picker from the dashboard.
  socket.on("paused", function (data) {
    paused = !!(data && data.paused);
    if (current) render(current);
    feedback(null, paused ? T.paused_by_supervisor : T.resumed_by_supervisor);
  });
})();
