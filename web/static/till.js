// till.js — saves the till round trips: live search, adding a found
// product, units and totals. Without it every button still posts the cart
// to the server, which does the same. Prices here are for display only: the
// server prices the sale from the catalogue at checkout.
"use strict";
(function () {
  document.querySelectorAll("[data-print]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function () { window.print(); });
  });

  var form = document.getElementById("till");
  if (!form) return;
  var cart = document.getElementById("till-cart");
  var results = document.getElementById("till-results");
  var proto = document.getElementById("till-line");
  var scan = document.getElementById("till-scan");
  var currency = form.dataset.currency;
  var lang = form.dataset.lang || "fr";
  // Money is written as the server writes it in the page's language: its
  // separators and the catalogue's pattern for the currency ("%s DH").
  var decimal = form.dataset.decimal || ".", group = form.dataset.group || "";
  var pattern = form.dataset.money || "%s " + currency;

  function money(a) {
    var sign = a < 0 ? "-" : "";
    a = Math.abs(a);
    var units = String(Math.floor(a / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, group);
    return pattern.replace("%s", sign + units + decimal + String(a % 100).padStart(2, "0"));
  }
  // Arabic-Indic digits, as a phone set to Arabic types them.
  function units(input) {
    var v = input.value.replace(/[\u0660-\u0669]/g, function (d) { return d.charCodeAt(0) - 0x660; })
      .replace(/[\u06f0-\u06f9]/g, function (d) { return d.charCodeAt(0) - 0x6f0; }).trim();
    return /^\d+$/.test(v) ? parseInt(v, 10) : NaN;
  }
  function lines() { return Array.prototype.slice.call(cart.querySelectorAll(".cart-line")); }
  function recalc() {
    var total = 0;
    lines().forEach(function (li, i) {
      li.querySelectorAll("button[name]").forEach(function (b) { b.value = i; });
      var n = units(li.querySelector("input[name=units]"));
      var amount = n > 0 ? n * parseInt(li.dataset.price, 10) : 0;
      li.querySelector(".amount").textContent = money(amount);
      total += amount;
    });
    document.getElementById("till-total").textContent = money(total);
    document.getElementById("till-empty").hidden = lines().length > 0;
  }
  function add(btn) {
    var sku = btn.dataset.sku;
    var li = lines().find(function (l) { return l.querySelector("input[name=sku]").value === sku; });
    if (li) {
      var input = li.querySelector("input[name=units]");
      input.value = (units(input) || 0) + 1;
    } else {
      li = proto.content.firstElementChild.cloneNode(true);
      li.dataset.price = btn.dataset.price;
      li.querySelector(".name").textContent = btn.dataset.name;
      li.querySelector(".sku").textContent = sku;
      li.querySelector("input[name=sku]").value = sku;
      li.querySelector(".price").textContent = money(parseInt(btn.dataset.price, 10));
      cart.appendChild(li);
    }
    recalc();
    scan.focus();
  }

  cart.addEventListener("input", recalc);
  cart.addEventListener("click", function (ev) {
    var b = ev.target.closest("button");
    if (!b) return;
    var li = b.closest(".cart-line");
    if (b.name === "remove") {
      ev.preventDefault();
      li.remove();
    } else if (b.name === "inc" || b.name === "dec") {
      ev.preventDefault();
      var input = li.querySelector("input[name=units]");
      var n = units(input) || 0;
      input.value = Math.max(1, n + (b.name === "inc" ? 1 : -1));
    } else {
      return;
    }
    recalc();
  });
  results.addEventListener("click", function (ev) {
    var b = ev.target.closest("button.till-add");
    if (!b) return;
    ev.preventDefault();
    add(b);
  });

  // Live search over the channel's catalogue, which the server keeps in
  // memory: no database read per keystroke.
  var q = document.getElementById("till-q");
  var timer = 0, seq = 0;
  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var text = q.value.trim(), mine = ++seq;
      if (text === "") { results.replaceChildren(); return; }
      fetch("/api/v1/catalog?channel=" + encodeURIComponent(form.dataset.shop) + "&limit=12&q=" + encodeURIComponent(text))
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (items) {
          if (mine !== seq) return;
          results.replaceChildren();
          items.forEach(function (it) {
            var name = it.names[lang] || it.names.fr;
            var li = document.createElement("li");
            var b = document.createElement("button");
            b.type = "submit"; b.name = "add"; b.value = it.sku; b.className = "till-add";
            b.dataset.sku = it.sku; b.dataset.name = name; b.dataset.price = it.price.amount;
            var n = document.createElement("span"); n.className = "name"; n.textContent = name;
            var c = document.createElement("code"); c.textContent = it.sku;
            var p = document.createElement("span"); p.className = "price"; p.textContent = money(it.price.amount);
            var s = document.createElement("small"); s.textContent = it.available_units + " " + form.dataset.inStock;
            b.append(n, " ", c, " ", p, " ", s);
            li.append(b);
            results.append(li);
          });
          if (items.length === 0) {
            var e = document.createElement("li"); e.className = "empty"; e.textContent = form.dataset.noResults;
            results.append(e);
          }
        })
        .catch(function () { /* offline: the Search button still works */ });
    }, 150);
  });

  // One checkout per tap, even on a slow link.
  var sent = false;
  form.addEventListener("submit", function (ev) {
    if (ev.submitter && ev.submitter.value === "checkout") {
      if (sent) { ev.preventDefault(); return; }
      sent = true;
    }
  });
})();
