// mapdoctor HTML report: flame graph (icicle) with search and zoom, timeline tooltips.
// Written for this report; no libraries. Untrusted names only ever reach the page as textContent.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("md-data").textContent);
  var NS = "http://www.w3.org/2000/svg";
  var tip = document.getElementById("tip");
  var pinned = false;
  Array.prototype.forEach.call(document.querySelectorAll(".js-only"), function (e) { e.classList.remove("js-only"); });
  Array.prototype.forEach.call(document.querySelectorAll(".no-js"), function (e) { e.remove(); });

  function fmtMs(ms) {
    if (ms >= 1000) return (ms / 1000).toFixed(ms >= 10000 ? 1 : 2) + " s";
    if (ms >= 10) return ms.toFixed(0) + " ms";
    if (ms >= 1) return ms.toFixed(1) + " ms";
    return ms.toFixed(3) + " ms";
  }
  function pct(x) { return (100 * x).toFixed(x < 0.1 ? 2 : 1) + "%"; }
  function title(c) { return D.titles[c] || c; }
  function showTip(text, x, y, pin) {
    tip.textContent = text;
    tip.classList.add("on");
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var left = Math.min(x + 14, window.innerWidth - w - 6), top = y + 16;
    if (top + h > window.innerHeight - 4) top = Math.max(4, y - h - 10);
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = top + "px";
    if (pin) pinned = true;
  }
  function hideTip(force) {
    if (pinned && !force) return;
    pinned = false;
    tip.classList.remove("on");
  }
  document.addEventListener("keydown", function (e) { if (e.key === "Escape") hideTip(true); });
  document.addEventListener("click", function (e) {
    if (!e.target.closest || !e.target.closest("svg")) hideTip(true);
  });

  // ---- timeline -------------------------------------------------------------------------------
  var L = D.lanes;
  function laneText(kind, t) {
    var b = Math.max(0, Math.min(L.bins - 1, Math.floor(t / L.bin_ms)));
    var lo = b * L.bin_ms, hi = lo + L.bin_ms, lines = [fmtMs(lo) + " \u2013 " + fmtMs(hi) + " (bin " + (b + 1) + " of " + L.bins + ")"];
    if (kind === "cpu" || kind.indexOf("cat:") === 0) {
      var total = 0, parts = [];
      Object.keys(L.samples).forEach(function (c) {
        var n = L.samples[c][b];
        if (n) { total += n; parts.push([n, c]); }
      });
      parts.sort(function (a, z) { return z[0] - a[0]; });
      if (kind.indexOf("cat:") === 0) {
        var own = kind.slice(4), k = (L.samples[own] || [])[b] || 0;
        lines.push(title(own) + ": " + k + " sample" + (k === 1 ? "" : "s") + " in this bin");
      }
      lines.push(total + " CPU sample" + (total === 1 ? "" : "s") + " (10 ms of CPU each)");
      parts.forEach(function (p) { lines.push("  " + title(p[1]) + ": " + p[0]); });
    } else if (kind === "pause") {
      lines.push("stop-the-world: " + fmtMs(D.series.stw_ms[b] || 0) + ", mark assists: " + fmtMs(D.series.assist_ms[b] || 0));
      L.stw.forEach(function (s) { if (s[1] >= lo && s[0] <= hi) lines.push("  STW " + fmtMs(s[1] - s[0]) + " at " + fmtMs(s[0]) + ": " + s[2]); });
      L.collection_stw.forEach(function (s) { if (s[1] >= lo && s[0] <= hi) lines.push("  (measurement) STW " + fmtMs(s[1] - s[0]) + ": " + s[2]); });
    } else if (kind === "gc") {
      var hit = null;
      L.gc.forEach(function (g, i) { if (g[0] <= t && t <= g[1]) hit = [i, g]; });
      if (hit) lines.push("GC cycle " + (hit[0] + 1) + " of " + L.gc.length + ": " + fmtMs(hit[1][0]) + " \u2013 " + fmtMs(hit[1][1]) + " (" + fmtMs(hit[1][1] - hit[1][0]) + ")");
      else lines.push("no GC cycle running (" + L.gc.length + " cycles in the trace)");
    } else if (kind === "req") {
      var inside = L.requests.filter(function (r) { return r[0] <= t && t <= r[0] + r[1]; });
      if (!inside.length) {
        var best = null;
        L.requests.forEach(function (r) { var d = Math.abs(r[0] - t); if (!best || d < best[0]) best = [d, r]; });
        if (best) inside = [best[1]];
      }
      inside.sort(function (a, z) { return z[1] - a[1]; });
      lines.push(inside.length + " request" + (inside.length === 1 ? "" : "s") + " around here; p50 " + fmtMs(L.p50_ms) + ", p99 " + fmtMs(L.p99_ms));
      inside.slice(0, 6).forEach(function (r) {
        lines.push("  " + fmtMs(r[1]) + " from " + fmtMs(r[0]) + (r[1] >= L.p99_ms ? "  SLOW (\u2265 p99)" : "") + " \u00b7 goroutine " + r[2]);
      });
    }
    return lines.join("\n");
  }
  if (L) {
    Array.prototype.forEach.call(document.querySelectorAll("svg[data-lane]"), function (svg) {
      var kind = svg.getAttribute("data-lane");
      function at(e) {
        var r = svg.getBoundingClientRect();
        return Math.max(0, Math.min(1, (e.clientX - r.left) / r.width)) * L.span_ms;
      }
      svg.addEventListener("mousemove", function (e) { if (!pinned) showTip(laneText(kind, at(e)), e.clientX, e.clientY, false); });
      svg.addEventListener("mouseleave", function () { hideTip(false); });
      svg.addEventListener("click", function (e) { pinned = false; showTip(laneText(kind, at(e)), e.clientX, e.clientY, true); });
    });
  }

  // ---- flame graph ----------------------------------------------------------------------------
  var F = D.flame, box = document.getElementById("flame");
  if (!F || !box) return;
  var ROW = 18, nodes = [], maxDepth = 0;
  // Flatten: [name, file, ms, category, x0 (ms from the left), depth, parent index].
  (function walk(n, x0, depth, parent) {
    var i = nodes.length;
    nodes.push({ name: F.names[n[0]], file: F.files[n[1]], ms: n[2], cat: F.categories[n[3]], x: x0, d: depth, p: parent });
    if (depth > maxDepth) maxDepth = depth;
    var x = x0;
    (n[4] || []).forEach(function (c) { walk(c, x, depth + 1, i); x += c[2]; });
  })(F.tree, 0, 0, -1);
  var focus = 0, query = "", info = document.getElementById("flame-info");
  var search = document.getElementById("flame-search"), reset = document.getElementById("flame-reset");
  function isAncestor(a, n) { for (var i = nodes[n].p; i >= 0; i = nodes[i].p) if (i === a) return true; return false; }
  function matches(n) {
    if (!query) return false;
    return nodes[n].name.toLowerCase().indexOf(query) >= 0;
  }
  function describe(i) {
    var n = nodes[i], all = nodes[0].ms;
    return n.name + (n.file ? "\n" + n.file : "") + "\n" + fmtMs(n.ms) + " of CPU, " + pct(n.ms / all) + " of all" +
      (focus ? ", " + pct(n.ms / nodes[focus].ms) + " of the zoomed frame" : "") + "\ncategory: " + title(n.cat);
  }
  function draw() {
    var W = box.clientWidth || 800, f = nodes[focus], scale = W / f.ms, base = f.d, rows = 0;
    var svg = document.createElementNS(NS, "svg"), hitMs = 0, hits = 0;
    var hitOpen = -1;
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", "CPU flame graph");
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i], inFocus = i === focus || isAncestor(focus, i), anc = !inFocus && isAncestor(i, focus);
      var m = matches(i);
      if (m && (hitOpen < 0 || !isAncestor(hitOpen, i))) { hitMs += n.ms; hits++; hitOpen = i; }
      if (!inFocus && !anc && !(i === 0)) continue;
      var x, w;
      if (anc || (i === 0 && focus !== 0)) { x = 0; w = W; } else { x = (n.x - f.x) * scale; w = n.ms * scale; }
      if (w < 0.6) continue;
      var y = n.d * ROW;
      if (n.d + 1 > rows) rows = n.d + 1;
      var g = document.createElementNS(NS, "g");
      g.setAttribute("data-i", i);
      if (anc || (i === 0 && focus !== 0)) g.setAttribute("class", "anc");
      else if (query) g.setAttribute("class", m ? "hit" : "dim");
      var r = document.createElementNS(NS, "rect");
      r.setAttribute("x", x.toFixed(2)); r.setAttribute("y", y);
      r.setAttribute("width", Math.max(0.6, w - 0.4).toFixed(2)); r.setAttribute("height", ROW - 1);
      r.setAttribute("fill", D.colors[n.cat] || "#ccc");
      g.appendChild(r);
      if (w > 28) {
        var t = document.createElementNS(NS, "text"), label = i === 0 ? "all CPU (" + fmtMs(n.ms) + ")" : n.name;
        var fit = Math.floor((w - 6) / 6.4);
        t.textContent = label.length > fit ? label.slice(0, Math.max(1, fit - 1)) + "\u2026" : label;
        t.setAttribute("x", (x + 3).toFixed(2)); t.setAttribute("y", y + 12.5);
        g.appendChild(t);
      }
      svg.appendChild(g);
    }
    svg.setAttribute("height", rows * ROW);
    svg.setAttribute("viewBox", "0 0 " + W + " " + rows * ROW);
    box.replaceChildren(svg);
    box.setAttribute("data-focus", focus);
    var text = focus ? "Zoomed into " + nodes[focus].name + " (" + fmtMs(nodes[focus].ms) + ", " + pct(nodes[focus].ms / nodes[0].ms) + " of CPU). Click the top bar or Reset to zoom out." : "Click a frame to zoom; hover for details.";
    if (query) text += " \u00b7 search: " + hits + " frame" + (hits === 1 ? "" : "s") + " match, " + pct(hitMs / nodes[0].ms) + " of CPU";
    info.textContent = text;
  }
  box.addEventListener("click", function (e) {
    var g = e.target.closest && e.target.closest("g[data-i]");
    if (!g) return;
    var i = +g.getAttribute("data-i");
    focus = (i === focus || g.getAttribute("class") === "anc") ? (i === focus ? Math.max(0, nodes[i].p) : i) : i;
    if (i === 0) focus = 0;
    hideTip(true);
    draw();
  });
  box.addEventListener("mousemove", function (e) {
    var g = e.target.closest && e.target.closest("g[data-i]");
    if (g) showTip(describe(+g.getAttribute("data-i")), e.clientX, e.clientY, false); else hideTip(false);
  });
  box.addEventListener("mouseleave", function () { hideTip(false); });
  search.addEventListener("input", function () { query = search.value.trim().toLowerCase(); draw(); });
  reset.addEventListener("click", function () { focus = 0; query = ""; search.value = ""; draw(); });
  var last = 0;
  window.addEventListener("resize", function () { if (box.clientWidth !== last) { last = box.clientWidth; draw(); } });
  last = box.clientWidth;
  draw();
})();
