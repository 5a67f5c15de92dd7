// Keyboard-wedge scanner input for desktop screens. A scanner types its code as a burst of
// keys (typically under ~40 ms apart) ending in Enter; a person types slower. The median gap
// decides, not the mean, and a stall of up to 1 s keeps the burst whole: one hiccup of a busy
// browser must neither turn a scan into typing nor cut off its first characters. A burst is a
// scan wherever the focus is (a scan into the weight field must not become a weight), except
// that a text field the burst was typed into is cleared. Manual entry goes through a form.
// Usage: WmsScanInput.listen(function (code) { ... });
(function (global) {
  "use strict";
  var MIN_LENGTH = 3, MAX_MEDIAN_GAP_MS = 40, RESET_AFTER_MS = 1000;

  function median(values) {
    var sorted = values.slice().sort(function (a, b) { return a - b; });
    return sorted[Math.floor(sorted.length / 2)];
  }

  function listen(onScan, options) {
    var opts = options || {};
    var buffer = "", gaps = [], last = 0, startedIn = null;
    document.addEventListener("keydown", function (event) {
      var now = performance.now();
      if (event.key === "Enter") {
        var gap = gaps.length ? median(gaps) : Infinity;
        var code = buffer, field = startedIn;
        buffer = ""; gaps = []; startedIn = null;
        if (code.length >= MIN_LENGTH && gap < MAX_MEDIAN_GAP_MS) {
          event.preventDefault();
          if (field && "value" in field) {
            field.value = field.value.slice(0, Math.max(0, field.value.length - code.length));
          }
          onScan(code);
        }
        return;
      }
      if (event.key.length !== 1) return;
      // A new burst (after an Enter, or after a pause) notes the field it is typed into.
      if (!buffer || now - last > RESET_AFTER_MS) { buffer = ""; gaps = []; startedIn = document.activeElement; }
      else { gaps.push(now - last); }
      last = now;
      buffer += event.key;
      if (opts.swallow && (!document.activeElement || !("value" in document.activeElement))) {
        event.preventDefault();
      }
    });
  }

  global.WmsScanInput = { listen: listen };
})(window);
