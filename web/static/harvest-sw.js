// The offline harvest page's service worker (issue 19): it keeps the page,
// its script and its style, answers them from the cache (the page opens
// with no signal) and refreshes them from the network when it can (the
// parcel and member lists follow). Everything else goes to the network.
"use strict";
var CACHE = "terroir-harvests-v1";
var page = new URL(self.location).searchParams.get("page") || "";
var assets = ["/static/offline.js", "/static/style.css"];

self.addEventListener("install", function (ev) {
  ev.waitUntil(caches.open(CACHE).then(function (c) {
    return Promise.all(assets.concat(page ? [page] : []).map(function (u) {
      return fetch(u, { credentials: "same-origin", cache: u === page ? "no-cache" : "force-cache" }).then(function (res) {
        if (res.ok) return c.put(u, res);
      });
    }));
  }).then(function () { return self.skipWaiting(); }));
});
self.addEventListener("activate", function (ev) { ev.waitUntil(self.clients.claim()); });

function cached(path) { return /\/harvests\/offline$/.test(path) || assets.indexOf(path) >= 0; }

self.addEventListener("fetch", function (ev) {
  var req = ev.request, url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || !cached(url.pathname)) return;
  var key = url.pathname;
  ev.respondWith(caches.open(CACHE).then(function (c) {
    return c.match(key).then(function (hit) {
      var fresh = fetch(req).then(function (res) {
        if (res.ok && !res.redirected) return c.put(key, res.clone()).then(function () { return res; });
        return res;
      });
      if (hit) {
        ev.waitUntil(fresh.catch(function () {}));
        return hit;
      }
      return fresh;
    });
  }));
});
