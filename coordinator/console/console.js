/*
 * console.js - the dtx operator console: reads dtxd's JSON API (/api/)
 * and shows it. Read-only; every value from the API is put in the page as
 * text (textContent), never as markup.
 */
"use strict";

const REFRESH_MS = 5000;
let listCursor = null;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

function showError(msg) {
  const box = document.getElementById("error");
  box.textContent = msg;
  box.hidden = !msg;
}

async function api(path) {
  const res = await fetch(path, { headers: { Accept: "application/json" } });
  const body = await res.json();
  if (!res.ok) {
    const m = body && body.error ? body.error.message : res.statusText;
    throw new Error(path + ": " + m);
  }
  return body;
}

function age(ms) {
  const s = Math.max(0, Math.floor((Date.now() - ms) / 1000));
  if (s < 120) return s + "s";
  if (s < 7200) return Math.floor(s / 60) + "m";
  if (s < 172800) return Math.floor(s / 3600) + "h";
  return Math.floor(s / 86400) + "d";
}

function utc(ms) {
  return ms ? new Date(ms).toISOString().replace("T", " ").replace("Z", "") : "-";
}

function gidLink(gid) {
  const a = el("a", gid, "gid");
  a.href = "#tx=" + encodeURIComponent(gid);
  a.dataset.gid = gid;
  return a;
}

function row(cells) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? "" : String(c);
    tr.appendChild(td);
  }
  return tr;
}

function flags(t) {
  const span = el("span");
  if (t.needs_operator) span.appendChild(el("span", "needs-operator", "flag op"));
  if (t.paused) span.appendChild(el("span", "paused", "flag"));
  return span;
}

function txRow(t, why) {
  const last = why ? t.operator_reason || t.reason || "" : flags(t);
  return row([gidLink(t.gid), t.mode, t.state, age(t.created_unix_ms), t.branches.length, last]);
}

async function loadStats() {
  const s = await api("/api/stats");
  const box = document.getElementById("stats");
  box.replaceChildren();
  const put = (k, v) => box.appendChild(el("span", k + ": " + v));
  put("total", s.total);
  put("active", s.active);
  put("needs operator", s.needs_operator);
  put("paused", s.paused);
  if (s.oldest_active) put("oldest active", s.oldest_active.gid + " (" + age(s.oldest_active.created_unix_ms) + ")");
  if (s.log_max_bytes) put("log", Math.round(100 * s.log_used_bytes / s.log_max_bytes) + "% of " + Math.round(s.log_max_bytes / 1048576) + " MiB");
  if (s.log_full) put("LOG FULL", "new transactions are refused");
  for (const c of s.counts) put(c.mode + " " + c.state, c.count);
}

async function loadNeeds() {
  const r = await api("/api/transactions?needs_operator=1&limit=200");
  const body = document.getElementById("needs-rows");
  body.replaceChildren(...r.transactions.map((t) => txRow(t, true)));
  document.getElementById("needs-empty").hidden = r.transactions.length > 0;
}

function listQuery() {
  const p = new URLSearchParams();
  const v = (id) => document.getElementById(id).value.trim();
  if (v("f-state")) p.set("state", v("f-state"));
  if (v("f-mode")) p.set("mode", v("f-mode"));
  if (v("f-older")) p.set("older_than", v("f-older"));
  if (v("f-gid")) p.set("gid", v("f-gid"));
  if (document.getElementById("f-needs").checked) p.set("needs_operator", "1");
  if (document.getElementById("f-final").checked) p.set("final", "1");
  p.set("limit", "50");
  return p;
}

async function loadList(more) {
  const p = listQuery();
  if (more && listCursor) p.set("after", listCursor);
  const r = await api("/api/transactions?" + p.toString());
  const body = document.getElementById("list-rows");
  const rows = r.transactions.map((t) => txRow(t, false));
  if (more) body.append(...rows); else body.replaceChildren(...rows);
  listCursor = r.next_after;
  document.getElementById("list-more").hidden = !listCursor;
}

function handlers(b) {
  return [b.action, b.compensate, b.confirm].filter((h) => h).join(" / ");
}

async function loadDetail(gid) {
  const r = await api("/api/transactions/" + encodeURIComponent(gid) + "?events=100");
  const t = r.transaction;
  document.getElementById("detail").hidden = false;
  document.getElementById("tx-title").textContent = "Transaction " + t.gid;
  const dl = document.getElementById("tx-summary");
  dl.replaceChildren();
  const put = (k, v) => { dl.appendChild(el("dt", k)); dl.appendChild(el("dd", v === null || v === undefined ? "-" : v)); };
  put("state", t.state);
  put("mode", t.mode + (t.initiator_driven ? " (initiator-driven)" : ""));
  put("needs operator", t.needs_operator ? "yes: " + (t.operator_reason || "") : "no");
  put("paused", t.paused ? "yes" : "no");
  put("reason", t.reason);
  put("failed branch", t.failed_step >= 0 ? t.failed_step : "-");
  put("created", utc(t.created_unix_ms) + " (" + age(t.created_unix_ms) + " ago)");
  put("updated", utc(t.updated_unix_ms));
  put("deadline", utc(t.deadline_unix_ms));
  document.getElementById("branch-rows").replaceChildren(...t.branches.map((b) =>
    row([b.index, b.state, b.attempts, handlers(b), b.participant_url, b.last_error, utc(b.next_retry_unix_ms)])));
  document.getElementById("timeline-rows").replaceChildren(...r.timeline.map((e) =>
    row([e.seq, utc(e.unix_ms), e.tx_state, e.step >= 0 ? e.step : "", e.step_state, e.detail])));
  document.getElementById("timeline-count").textContent =
    "(" + r.timeline.length + " of " + r.timeline_total + " lines, newest last)";
}

function selectedGid() {
  const m = /^#tx=(.+)$/.exec(location.hash);
  return m ? decodeURIComponent(m[1]) : null;
}

async function refresh() {
  try {
    await Promise.all([loadStats(), loadNeeds()]);
    const gid = selectedGid();
    if (gid) await loadDetail(gid);
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    showError("");
  } catch (e) {
    showError(e.message);
  }
}

async function guarded(fn) {
  try { await fn(); showError(""); } catch (e) { showError(e.message); }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("filters").addEventListener("submit", (ev) => {
    ev.preventDefault();
    guarded(() => loadList(false));
  });
  document.getElementById("list-more").addEventListener("click", () => guarded(() => loadList(true)));
  window.addEventListener("hashchange", () => {
    const gid = selectedGid();
    if (gid) guarded(() => loadDetail(gid));
  });
  refresh();
  guarded(() => loadList(false));
  setInterval(() => { if (!document.hidden) refresh(); }, REFRESH_MS);
});
