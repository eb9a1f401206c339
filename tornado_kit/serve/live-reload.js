// tkit serve live reload: added to HTML responses by the dev server only (never by `python -m app`).
// Listens to /_tkit/live-reload (a same-origin WebSocket): "css" swaps a stylesheet in place, "reload"
// reloads the page, and a "hello" naming another app process than the one that served this page means
// new code is serving: reload. Reconnects with backoff while the dev server is away.
(function () {
  "use strict";
  if (window.__tkitLiveReload) return;
  var state = window.__tkitLiveReload = {connected: false};  // for tests and the curious
  var PATH = "/_tkit/live-reload";
  var GUARD = "tkit-live-reloads";
  var current = pageServer();
  var delay = 25;
  var reloading = false;

  function pageServer() {
    var entries = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    var timing = entries.length && entries[0].serverTiming ? entries[0].serverTiming : [];
    for (var i = 0; i < timing.length; i++) {
      if (timing[i].name === "tkit-live") return timing[i].description;
    }
    return null;
  }

  function reload() {
    if (reloading) return;
    reloading = true;
    location.reload();
  }

  function reloadFor(server) {
    var counts = {};
    try { counts = JSON.parse(sessionStorage.getItem(GUARD) || "{}"); } catch (e) { counts = {}; }
    var tries = counts[server] || 0;
    current = server;
    if (tries >= 3) return;  // a page cached from an older process keeps coming back: never loop
    var next = {};
    next[server] = tries + 1;
    try { sessionStorage.setItem(GUARD, JSON.stringify(next)); } catch (e) { /* storage off: still reload */ }
    reload();
  }

  function onHello(server) {
    delay = 25;
    state.connected = true;
    if (current === null) current = server;
    if (server !== current) reloadFor(server);
  }

  function sharedSuffix(a, b) {
    var x = a.split("/"), y = b.split("/"), n = 0;
    while (n < x.length && n < y.length && x[x.length - 1 - n] === y[y.length - 1 - n]) n++;
    return n;
  }

  function swapStylesheet(changed) {
    var links = Array.prototype.filter.call(
      document.querySelectorAll('link[rel~="stylesheet"][href]'),
      function (link) { return new URL(link.href, location.href).origin === location.origin; });
    var best = 0, chosen = [];
    links.forEach(function (link) {
      var score = sharedSuffix(decodeURIComponent(new URL(link.href, location.href).pathname), changed);
      if (score > best) { best = score; chosen = [link]; } else if (score > 0 && score === best) chosen.push(link);
    });
    (chosen.length ? chosen : links).forEach(replaceLink);  // not linked directly (@import): refresh all
  }

  function replaceLink(link) {
    var url = new URL(link.href, location.href);
    url.searchParams.set("tkit-live", String(Date.now()));
    var fresh = link.cloneNode(false);
    fresh.href = url.href;
    fresh.addEventListener("load", function () { link.remove(); });
    fresh.addEventListener("error", function () { fresh.remove(); });
    link.after(fresh);
  }

  function onMessage(message) {
    var event = JSON.parse(message.data);
    if (event.event === "hello") onHello(event.data);
    else if (event.event === "reload") reload();
    else if (event.event === "css") swapStylesheet(event.data);
  }

  function connect() {
    var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + PATH);
    socket.onmessage = onMessage;
    socket.onclose = function () {
      state.connected = false;
      if (reloading) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 2000);
    };
  }

  window.addEventListener("pageshow", function () { reloading = false; });
  connect();
})();
