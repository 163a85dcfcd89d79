// The etcd 0.4 dashboard, rewritten without its AngularJS, Vega and CoreOS UI kit: the same two
// pages (a key browser and cluster stats) on the same v2 API, as one script with no
// dependencies. Every request goes to the member serving the page, which forwards writes to
// the leader; only the stats come from the leader itself (its /v2/stats/leader), as in 0.4.
"use strict";
(function () {
  const BASE = "/mod/dashboard";
  const view = document.getElementById("view");
  const dialog = document.getElementById("dialog");
  const dialogForm = document.getElementById("dialog-form");
  let timers = [];

  function every(ms, f) {
    f();
    timers.push(setInterval(f, ms));
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "onclick") e.addEventListener("click", v);
      else if (v !== false && v !== undefined && v !== null) e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children) e.append(c instanceof Node ? c : String(c));
    return e;
  }

  function toast(text) {
    const t = el("div", { class: "toast" }, text);
    document.getElementById("toasts").append(t);
    setTimeout(() => t.remove(), 5000);
  }

  // A v2 request; a failure throws the server's message, else "Request Error".
  async function api(method, url, form) {
    const opts = { method, headers: {} };
    if (form) {
      opts.body = new URLSearchParams(form);
      opts.headers["Content-Type"] = "application/x-www-form-urlencoded";
    }
    let resp;
    try {
      resp = await fetch(url, opts);
    } catch (e) {
      throw new Error("Request Error");
    }
    let body = null;
    try {
      body = await resp.json();
    } catch (e) {
      body = null;
    }
    if (!resp.ok) throw new Error(body && body.message ? body.message : "Request Error");
    return body;
  }

  function keyUrl(key) {
    return "/v2/keys" + key.split("/").map(encodeURIComponent).join("/");
  }

  function join(dir, name) {
    const parts = (dir + "/" + name).split("/").filter((p) => p !== "");
    return "/" + parts.join("/");
  }

  function go(href) {
    history.pushState(null, "", href);
    route();
  }

  // ---- dialogs ---------------------------------------------------------------------------

  // fields: [{name, label, type, value, disabled, options}]; onSubmit gets the values and may
  // throw (the message becomes a toast and the dialog stays open).
  function openDialog(title, fields, submit, onSubmit) {
    dialogForm.replaceChildren(el("h2", {}, title));
    for (const f of fields) {
      let input;
      if (f.options) {
        input = el("select", { name: f.name });
        for (const o of f.options) input.append(el("option", { value: o }, o));
      } else if (f.type === "table") {
        dialogForm.append(f.table);
        continue;
      } else {
        input = el("input", { name: f.name, type: f.type || "text", value: f.value ?? "" });
      }
      if (f.disabled) input.disabled = true;
      dialogForm.append(el("label", {}, f.label, input));
    }
    const ok = el("button", { value: "ok", id: "dialog-ok" }, submit);
    const cancel = el("button", { value: "cancel", id: "dialog-cancel", formnovalidate: true }, "Cancel");
    dialogForm.append(el("div", { class: "toolbar" }, ok, cancel));
    const kind = dialogForm.querySelector("select[name=type]");
    const value = dialogForm.querySelector("input[name=value]");
    if (kind && value) kind.addEventListener("change", () => (value.disabled = kind.value === "Directory"));
    ok.addEventListener("click", async (e) => {
      e.preventDefault();
      if (!onSubmit) return dialog.close();
      const values = {};
      for (const i of dialogForm.querySelectorAll("input, select")) values[i.name] = i.disabled ? null : i.value;
      try {
        await onSubmit(values);
        dialog.close();
      } catch (err) {
        toast(err.message);
      }
    });
    dialog.showModal();
  }

  function propertyTable(obj) {
    const rows = Object.entries(obj).map(([k, v]) =>
      el("tr", {}, el("th", {}, k), el("td", { class: "value" }, typeof v === "object" ? JSON.stringify(v) : v))
    );
    return el("table", { class: "properties" }, el("tbody", {}, ...rows));
  }

  // ---- key browser -----------------------------------------------------------------------

  function browser() {
    const path = join(new URLSearchParams(location.search).get("path") || "/", "");
    const seen = new Map();
    const crumbs = el("div", { class: "crumbs" });
    let at = "/";
    crumbs.append(el("a", { onclick: () => go(BASE + "/browser") }, "root"));
    for (const part of path.split("/").filter((p) => p)) {
      at = join(at, part);
      const target = at;
      crumbs.append(" / ", el("a", { onclick: () => go(BASE + "/browser?path=" + encodeURIComponent(target)) }, part));
    }
    const tbody = el("tbody", { id: "keys" });
    view.replaceChildren(
      el("h1", {}, "Key Browser"),
      crumbs,
      el("div", { class: "toolbar" }, el("button", { id: "create", onclick: () => create(path, load) }, "Create Node")),
      el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Key"), el("th", {}, "Value"), el("th", {}, "TTL"), el("th", {}, ""))), tbody)
    );

    async function load() {
      let body;
      try {
        body = await api("GET", keyUrl(path) + "?sorted=true");
      } catch (e) {
        toast(e.message === "Request Error" ? "Error polling for data." : e.message);
        return;
      }
      const nodes = body.node.dir ? body.node.nodes || [] : [body.node];
      tbody.replaceChildren(...nodes.map((n) => row(n, seen, load)));
      if (nodes.length === 0) tbody.append(el("tr", {}, el("td", { colspan: 4 }, "This directory is empty.")));
    }
    every(5000, load);
  }

  function row(node, seen, reload) {
    const name = node.key.split("/").pop();
    const value = node.dir ? "--" : node.value;
    const ttl = node.ttl ?? "--";
    const before = seen.get(node.key);
    seen.set(node.key, { value, ttl });
    const cell = (cls, text, old) => el("td", { class: cls + (before && old !== text ? " changed" : "") }, text);
    const keyCell = node.dir
      ? el("td", { class: "key" }, el("span", { class: "dir", onclick: () => go(BASE + "/browser?path=" + encodeURIComponent(node.key)) }, name + "/"))
      : el("td", { class: "key" }, name);
    const actions = [el("button", { class: "details", onclick: () => details(node) }, "View Details…")];
    if (node.dir) actions.push(el("button", { class: "modify-ttl", onclick: () => modifyTtl(node, reload) }, "Modify TTL…"));
    else actions.push(el("button", { class: "modify", onclick: () => modify(node, reload) }, "Modify Node…"));
    actions.push(el("button", { class: "delete", onclick: () => remove(node, reload) }, "Delete Node…"));
    return el(
      "tr",
      { "data-key": node.key },
      keyCell,
      cell("value", value, before && before.value),
      cell("ttl", String(ttl), before && String(before.ttl)),
      el("td", {}, el("details", { class: "cog" }, el("summary", { title: "actions" }, "⚙"), ...actions))
    );
  }

  function create(dir, reload) {
    openDialog(
      "Create Node",
      [
        { name: "key", label: "Key" },
        { name: "type", label: "Type", options: ["Key", "Directory"] },
        { name: "value", label: "Value" },
        { name: "ttl", label: "TTL (seconds)", type: "number" },
      ],
      "Save",
      async (v) => {
        if (!v.key) throw new Error("A key is required.");
        const form = v.type === "Directory" ? { dir: "true" } : { value: v.value ?? "" };
        if (v.ttl) form.ttl = v.ttl;
        await api("PUT", keyUrl(join(dir, v.key)), form);
        reload();
      }
    );
  }

  function details(node) {
    openDialog("Node Details", [{ type: "table", table: propertyTable(node) }], "Close", null);
  }

  function modify(node, reload) {
    openDialog(
      "Modify Node",
      [
        { name: "value", label: "Value", value: node.value },
        { name: "ttl", label: "TTL (seconds)", type: "number", value: node.ttl ?? "" },
      ],
      "Save",
      async (v) => {
        const form = { value: v.value ?? "", prevExist: "true" };
        if (v.ttl) form.ttl = v.ttl;
        await api("PUT", keyUrl(node.key), form);
        reload();
      }
    );
  }

  function modifyTtl(node, reload) {
    openDialog("Modify TTL", [{ name: "ttl", label: "TTL (seconds)", type: "number", value: node.ttl ?? "" }], "Save", async (v) => {
      await api("PUT", keyUrl(node.key), { dir: "true", prevExist: "true", ttl: v.ttl ?? "" });
      reload();
    });
  }

  function remove(node, reload) {
    openDialog("Delete " + node.key + "?", [], "Delete", async () => {
      await api("DELETE", keyUrl(node.key) + (node.dir ? "?dir=true&recursive=true" : ""));
      reload();
    });
  }

  // ---- stats -----------------------------------------------------------------------------

  function latencyClass(ms, amberFrom, redFrom) {
    return ms < amberFrom ? "green" : ms < redFrom ? "amber" : "red";
  }

  function stats() {
    const leaderName = el("span", { id: "leader-name" }, "…");
    const leaderUptime = el("span", { id: "leader-uptime" }, "…");
    const chart = el("div", { id: "latency-chart" });
    const followers = el("tbody", { id: "followers" });
    view.replaceChildren(
      el("h1", {}, "Stats"),
      el("div", { class: "panel" }, el("h2", {}, "Leader"), leaderName, " — up ", leaderUptime),
      el("div", { class: "panel" }, el("h2", {}, "Peer Latency"), chart, el("div", { class: "axis" }, el("span", {}, "0"), el("span", {}, "Latency (ms)"), el("span", {}, "100"))),
      el("div", { class: "panel" }, el("h2", {}, "Followers"), el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, "Name"), el("th", {}, "Latency"), el("th", {}, "Raft Requests"))), followers))
    );
    let members = {};
    let leaderUrl = null;

    async function resolve() {
      try {
        const self = await api("GET", "/v2/stats/self");
        const list = await api("GET", "/v2/members");
        members = {};
        for (const m of list.members) members[m.id] = m;
        const leader = self.leaderInfo && self.leaderInfo.leader;
        leaderUrl = leader === self.id ? "" : members[leader] ? members[leader].clientURLs[0] : null;
        if (leaderUrl === null) throw new Error("Request Error");
        const info = await api("GET", leaderUrl + "/v2/stats/self");
        leaderName.textContent = info.name;
        leaderUptime.textContent = info.leaderInfo ? info.leaderInfo.uptime : "--";
      } catch (e) {
        toast("Error polling for data.");
      }
    }

    async function latency() {
      if (leaderUrl === null) return;
      let body;
      try {
        body = await api("GET", leaderUrl + "/v2/stats/leader");
      } catch (e) {
        toast("Error polling for data.");
        return;
      }
      const ids = Object.keys(body.followers || {}).sort();
      chart.replaceChildren(
        ...ids.map((id) => {
          const ms = body.followers[id].latency.current;
          const width = Math.min(100, Math.max(0, ms));
          return el(
            "div",
            { class: "bar-row", "data-id": id },
            el("span", { class: "bar-name" }, nameOf(id)),
            el("span", { class: "bar-track" }, el("span", { class: "bar " + latencyClass(ms, 10, 50), style: "display:block;width:" + width + "%" }))
          );
        })
      );
      followers.replaceChildren(
        ...ids.map((id) => {
          const f = body.followers[id];
          const ms = f.latency.current;
          const name = el("a", { class: "peer", href: "#", onclick: (e) => (e.preventDefault(), peer(id)) }, nameOf(id));
          return el(
            "tr",
            { "data-id": id },
            el("td", {}, name),
            el("td", { class: "latency" }, el("span", { class: "square " + latencyClass(ms, 25, 60) }), ms.toFixed(1) + " ms"),
            el("td", { class: "counts" }, f.counts.fail + " failures, " + f.counts.success + " successes")
          );
        })
      );
      if (ids.length === 0) followers.append(el("tr", {}, el("td", { colspan: 3 }, "No followers: this cluster has one member.")));
    }

    function nameOf(id) {
      return members[id] && members[id].name ? members[id].name : id;
    }

    async function peer(id) {
      const m = members[id];
      try {
        if (!m || !m.clientURLs.length) throw new Error("Request Error");
        const s = await api("GET", m.clientURLs[0] + "/v2/stats/self");
        openDialog("Peer Stats: " + nameOf(id), [{ type: "table", table: propertyTable(s) }], "Close", null);
      } catch (e) {
        toast(e.message);
      }
    }

    (async () => {
      await resolve();
      every(500, latency);
      timers.push(setInterval(resolve, 5000));
    })();
  }

  function notFound() {
    view.replaceChildren(el("h1", {}, "404"), el("p", {}, "This page does not exist. Try the ", el("a", { href: BASE + "/browser", "data-route": "browser" }, "key browser"), "."));
  }

  // ---- routing ---------------------------------------------------------------------------

  function route() {
    timers.forEach(clearInterval);
    timers = [];
    if (dialog.open) dialog.close();
    const rest = location.pathname.slice(BASE.length).replace(/^\/+|\/+$/g, "");
    for (const a of document.querySelectorAll(".navbar a")) a.classList.toggle("active", a.dataset.route === rest);
    if (rest === "") {
      history.replaceState(null, "", BASE + "/browser");
      return route();
    }
    if (rest === "browser") return browser();
    if (rest === "stats") return stats();
    notFound();
  }

  document.addEventListener("click", (e) => {
    const a = e.target.closest("a[data-route]");
    if (a) {
      e.preventDefault();
      go(a.getAttribute("href"));
    }
  });
  window.addEventListener("popstate", route);
  route();
})();
