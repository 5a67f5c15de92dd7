// Live overview: the server sends the floor figures on connect and whenever they change.
(function () {
  "use strict";
  var dot = document.getElementById("live-state");
  if (typeof io === "undefined") {  // assets not built: the page still works, just not live
    if (dot) { dot.textContent = dot.dataset.offline; dot.className = "live live-off"; }
    return;
  }
  var socket = io("/overview", { transports: ["websocket"] });
  function set(name, value) {
    var el = document.querySelector('[data-figure="' + name + '"]');
    if (el) el.textContent = Number(value).toLocaleString();
  }
  socket.on("connect", function () { dot.textContent = dot.dataset.online; dot.className = "live live-on"; });
  socket.on("disconnect", function () { dot.textContent = dot.dataset.offline; dot.className = "live live-off"; });
  socket.on("figures", function (f) {
    set("orders", f.orders);
    set("b2c", f.orders_by_kind.b2c || 0);
    set("b2b", f.orders_by_kind.b2b || 0);
    set("items", f.items);
    set("locations", f.locations);
    set("on-hand", f.units_on_hand);
    set("reserved", f.units_reserved);
    document.querySelectorAll("[data-status-count]").forEach(function (el) {
      el.textContent = f.orders_by_status[el.dataset.statusCount] || 0;
    });
  });
})();
