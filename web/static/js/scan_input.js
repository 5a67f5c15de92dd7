// Keyboard-wedge scanner input for desktop screens. A scanner types its code as a burst of
// keys (under ~40 ms apart on average) ending in Enter; a person types slower. A burst is a
// scan wherever the focus is (a scan into the weight field must not become a weight), except
// that a text field the burst was typed into is cleared. Manual entry goes through a form.
// Usage: WmsScanInput.listen(function (code) { ... });
(function (global) {
  "use strict";
  var MIN_LENGTH = 3, MAX_MEAN_GAP_MS = 40, RESET_AFTER_MS = 100;

  function listen(onScan, options) {
    var opts = options || {};
    var buffer = "", gaps = [], last = 0, startedIn = null;
    document.addEventListener("keydown", function (event) {
      var now = performance.now();
      if (event.key === "Enter") {
        var mean = gaps.length ? gaps.reduce(function (a, b) { return a + b; }, 0) / gaps.length : Infinity;
        var code = buffer, field = startedIn;
        buffer = ""; gaps = []; startedIn = null;
        if (code.length >= MIN_LENGTH && mean < MAX_MEAN_GAP_MS) {
          event.preventDefault();
          if (field && "value" in field) {
            field.value = field.value.slice(0, Math.max(0, field.value.length - code.length));
          }
          onScan(code);
        }
        return;
      }
      if (event.key.length !== 1) return;
      if (now - last > RESET_AFTER_MS) { buffer = ""; gaps = []; startedIn = document.activeElement; }
      else if (buffer) { gaps.push(now - last); }
      last = now;
      buffer += event.key;
      if (opts.swallow && (!document.activeElement || !("value" in document.activeElement))) {
        event.preventDefault();
      }
    });
  }

  global.WmsScanInput = { listen: listen };
})(window);
