// Offline harvest recording (issue 19): the form keeps each harvest in
// IndexedDB under a key made here, and sends it with that key as
// Idempotency-Key when the connection is back; the server answers a resend
// with its first answer, so a harvest is stored once however often it is
// sent. No framework: this file and the page are what the phone caches.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("offline-data").textContent);
  var T = data.text, form = document.getElementById("harvest");
  var list = document.getElementById("outbox"), net = document.getElementById("net");
  var parcels = {};
  data.parcels.forEach(function (p) { parcels[p.id] = p; });
  var db, sending = false, again = false, sentCount = 0, editing = null, timer = 0, delay = 1000;

  function fmt(s, n) { return s.replace("{n}", String(n)); }
  function newKey() {
    if (self.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  function open() {
    return new Promise(function (ok, fail) {
      var r = indexedDB.open("terroir-outbox", 1);
      r.onupgradeneeded = function () { r.result.createObjectStore("harvests", { keyPath: "key" }); };
      r.onsuccess = function () { ok(r.result); };
      r.onerror = function () { fail(r.error); };
    });
  }
  function tx(mode, fn) {
    return new Promise(function (ok, fail) {
      var t = db.transaction("harvests", mode), store = t.objectStore("harvests"), out;
      var r = fn(store);
      if (r) r.onsuccess = function () { out = r.result; };
      t.oncomplete = function () { ok(out); };
      t.onerror = function () { fail(t.error); };
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }).then(function (rs) {
    return rs.filter(function (r) { return r.coop === data.coop; }).sort(function (a, b) { return a.created - b.created; });
  }); }
  function put(r) { return tx("readwrite", function (s) { return s.put(r); }); }
  function del(key) { return tx("readwrite", function (s) { return s.delete(key); }); }

  function render() {
    return all().then(function (rs) {
      var waiting = 0, refused = 0;
      list.textContent = "";
      rs.forEach(function (r) {
        var li = document.createElement("li");
        li.className = r.status;
        li.dataset.key = r.key;
        var p = parcels[r.parcel];
        var what = document.createElement("span");
        what.textContent = r.date + " · " + (p ? p.label : r.parcel) + " · " + r.amount + " " + r.unit + " — " + (r.status === "refused" ? T.off_status_refused : T.off_status_waiting);
        li.appendChild(what);
        if (r.status === "refused") {
          refused++;
          var why = document.createElement("strong");
          why.className = "refusal";
          why.textContent = r.reason;
          li.appendChild(document.createElement("br"));
          li.appendChild(why);
          li.appendChild(document.createElement("br"));
          li.appendChild(button(T.off_fix, "fix", function () { fix(r); }));
          li.appendChild(button(T.off_remove, "remove", function () { del(r.key).then(render); }));
        } else {
          waiting++;
        }
        list.appendChild(li);
      });
      show("waiting", fmt(T.off_waiting, waiting), true);
      show("refused", fmt(T.off_refused, refused), refused > 0);
      show("sent", fmt(T.off_sent, sentCount), sentCount > 0);
      document.body.dataset.waiting = waiting;
      document.body.dataset.refused = refused;
    });
  }
  function show(id, text, visible) { var e = document.getElementById(id); e.textContent = text; e.hidden = !visible; }
  function button(label, cls, fn) {
    var b = document.createElement("button");
    b.type = "button"; b.className = "link " + cls; b.textContent = label;
    b.addEventListener("click", fn);
    return b;
  }
  function fix(r) {
    editing = r.key;
    ["parcel", "member", "date", "amount", "unit"].forEach(function (f) { form.elements[f].value = r[f] || ""; });
    form.elements.amount.focus();
  }

  function onSubmit(ev) {
    ev.preventDefault();
    var f = form.elements, p = parcels[f.parcel.value] || {};
    // A corrected record is a new request: its refusal is kept under the
    // old key, so it gets a new one.
    var r = { key: newKey(), coop: data.coop, created: Date.now(), status: "waiting",
      parcel: f.parcel.value, member: f.member.value || p.member || "", crop: p.crop || "",
      date: f.date.value, amount: f.amount.value.trim(), unit: f.unit.value };
    var old = editing;
    editing = null;
    (old ? del(old) : Promise.resolve()).then(function () { return put(r); }).then(function () {
      f.amount.value = "";
      saveDraft();
      net.textContent = T.off_saved;
      return render();
    }).then(send);
  }

  // send posts every waiting record, one at a time, each answered on its
  // own. It stops at the first network failure (still offline) and
  // leaves the rest waiting.
  function send() {
    if (sending) { again = true; return Promise.resolve(); } // after this round
    if (!navigator.onLine) return Promise.resolve();
    sending = true;
    again = false;
    return all().then(function (rs) {
      var queue = rs.filter(function (r) { return r.status === "waiting"; });
      function next() {
        var r = queue.shift();
        if (!r) { delay = 1000; return; }
        return post(r).then(function (go) { if (go) return next(); later(); });
      }
      return next();
    }).catch(function () {}).then(function () {
      sending = false;
      return render().then(function () { if (again) return send(); });
    });
  }
  // later tries again soon, then less and less often: the first requests
  // after the signal returns often fail while the phone reconnects.
  function later() {
    clearTimeout(timer);
    timer = setTimeout(send, delay);
    delay = Math.min(2 * delay, 30000);
  }
  function post(r) {
    var body = new URLSearchParams({ csrf: data.csrf, parcel: r.parcel, member: r.member, crop: r.crop, date: r.date, amount: r.amount, unit: r.unit });
    return fetch(data.outbox, { method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "Idempotency-Key": r.key, "Accept": "application/json" } }).then(function (res) {
      if (res.status === 201) { sentCount++; return del(r.key).then(function () { return true; }); }
      if (res.type === "opaqueredirect" || res.status === 401 || res.status === 403) {
        net.textContent = T.off_login; // session over or page too old: keep waiting
        return false;
      }
      if (res.status === 409 || res.status >= 500) return false; // try again later
      return res.json().catch(function () { return {}; }).then(function (a) {
        r.status = "refused";
        r.reason = (a.error && a.error.message) || String(res.status);
        r.field = a.error && a.error.field;
        return put(r).then(function () { return true; });
      });
    }, function () { return false; });
  }
  function status() { net.textContent = navigator.onLine ? T.off_online : T.off_offline; }

  // What is being typed is kept too, so closing the tab loses nothing.
  var draftKey = "terroir-harvest-draft:" + data.coop;
  function saveDraft() {
    var d = {};
    ["parcel", "member", "date", "amount", "unit"].forEach(function (f) { d[f] = form.elements[f].value; });
    try { localStorage.setItem(draftKey, JSON.stringify(d)); } catch (e) {}
  }
  function restoreDraft() {
    var d;
    try { d = JSON.parse(localStorage.getItem(draftKey) || "null"); } catch (e) {}
    if (!d) return;
    Object.keys(d).forEach(function (f) { if (form.elements[f] && d[f]) form.elements[f].value = d[f]; });
  }

  open().then(function (d) {
    db = d;
    if (form) {
      restoreDraft();
      form.addEventListener("input", saveDraft);
      form.addEventListener("change", saveDraft);
      form.addEventListener("submit", onSubmit);
    }
    document.getElementById("send").addEventListener("click", send);
    window.addEventListener("online", function () { status(); delay = 1000; send(); });
    window.addEventListener("offline", status);
    setInterval(send, 30000);
    status();
    return render().then(send);
  }).then(function () { document.body.dataset.ready = "1"; });

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/harvest-sw.js?page=" + encodeURIComponent(location.pathname), { scope: "/coop/" }).catch(function () {});
    // Once the worker holds the page, it opens with no signal.
    navigator.serviceWorker.ready.then(function () { return caches.open(data.cache); }).then(function (c) {
      return c.match(location.pathname);
    }).then(function (hit) { if (hit) document.body.dataset.offlineReady = "1"; }).catch(function () {});
  }
})();
