"use strict";
// The supervisors' wallboard: queues, agents, live calls, crisis alerts (kept until acknowledged), hourly
// charts drawn by the server as SVG. Live over /ws; every change re-reads /api/wallboard.
const TEXT = {
  zh: { title: "12355 青少年服务台 · 班长监控墙", offline: "未连接", online: "实时", alerts: "危机警报", ack: "确认",
        today: "今日概况", queues: "队列", queue: "队列", waiting: "等待", longest: "最长等待(秒)", ready: "就绪",
        on_call: "通话", wrap_up: "话后", paused: "暂停", offered: "呼入", answered: "接听", sl: "服务水平",
        abandon: "放弃率", asa: "平均应答(秒)", aht: "平均处理(秒)", agents: "坐席", my_phone: "我的分机（监听用）",
        force_reason: "强制暂停原因", r_meeting: "会议", r_break: "休息", r_training: "培训",
        "r_after-call-work": "话后处理", extension: "分机", name: "姓名", state: "状态", since: "持续",
        calls_today: "今日接听", actions: "操作", listen: "监听", whisper: "耳语", barge: "强插",
        force_pause: "强制暂停", force_logout: "强制签出", seat_open: "开启加席", seat_close: "关闭加席",
        seat_release: "交回自动", calls: "进行中的通话", arrived: "来电时间", caller: "来电号码", menu: "菜单路径",
        agent: "坐席", status: "状态", talking: "通话中", queued: "排队/菜单中", charts: "每小时统计",
        seats: "开放坐席", total_waiting: "等待中", need_ext: "请先填写您的分机", done: "已执行",
        not_available: "此功能尚未开放", switch: "English",
        states: { "logged-out": "未签入", ready: "就绪", ringing: "振铃", "on-call": "通话中", "wrap-up": "话后整理",
                  paused: "暂停" } },
  en: { title: "12355 Youth Hotline · supervisor wallboard", offline: "offline", online: "live",
        alerts: "Crisis alerts", ack: "Acknowledge", today: "Today", queues: "Queues", queue: "Queue",
        waiting: "Waiting", longest: "Longest wait (s)", ready: "Ready", on_call: "On call", wrap_up: "Wrap-up",
        paused: "Paused", offered: "Offered", answered: "Answered", sl: "Service level", abandon: "Abandon rate",
        asa: "ASA (s)", aht: "AHT (s)", agents: "Agents", my_phone: "My extension (for listening)",
        force_reason: "Forced pause reason", r_meeting: "Meeting", r_break: "Break", r_training: "Training",
        "r_after-call-work": "After-call work", extension: "Ext.", name: "Name", state: "State", since: "For",
        calls_today: "Answered today", actions: "Actions", listen: "Listen", whisper: "Whisper", barge: "Barge",
        force_pause: "Force pause", force_logout: "Force log-out", seat_open: "Open seat",
        seat_close: "Close seat", seat_release: "Back to auto", calls: "Live calls", arrived: "Arrived",
        caller: "Caller", menu: "Menu path", agent: "Agent", status: "Status", talking: "talking",
        queued: "queued / in menu", charts: "Per hour", seats: "Seats open", total_waiting: "Waiting",
        need_ext: "Enter your extension first", done: "Done", not_available: "Not available yet", switch: "中文",
        states: { "logged-out": "logged out", ready: "ready", ringing: "ringing", "on-call": "on a call",
                  "wrap-up": "wrap-up", paused: "paused" } },
};
let lang = localStorage.getItem("hotline.lang") || "zh";
let board = null;
let loadedAt = 0;
const $ = (id) => document.getElementById(id);
function t(key) { return TEXT[lang][key]; }
function cell(row, text, cls) {
  const td = row.insertCell(); td.textContent = text === null || text === undefined ? "—" : String(text);
  if (cls) td.className = cls; return td;
}
function pct(v) { return v === null || v === undefined ? null : `${(v * 100).toFixed(1)}%`; }
function secs(v) { return v === null || v === undefined ? null : Math.round(v); }
function fmt(seconds) {
  const s = Math.max(0, Math.floor(seconds)); const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`
                 : `${m}:${String(s % 60).padStart(2, "0")}`;
}
async function api(method, url, body) {
  const r = await fetch(url, { method, headers: body ? { "Content-Type": "application/json" } : {},
                               body: body ? JSON.stringify(body) : undefined });
  if (r.status === 401) { location.href = "/login?next=/wallboard"; throw new Error("log in"); }
  return r;
}
function say(text) { $("message").textContent = text || ""; }

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("lang").textContent = t("switch");
  document.title = t("title");
  charts();
  if (board) render(board);
}
$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("hotline.lang", lang); applyLanguage();
});
$("my-ext").value = localStorage.getItem("hotline.wallboard.ext") || "";
$("my-ext").addEventListener("change", () => localStorage.setItem("hotline.wallboard.ext", $("my-ext").value.trim()));

function charts() {
  const stamp = Date.now();
  $("chart-calls").src = `/api/wallboard/charts/calls.svg?lang=${lang}&t=${stamp}`;
  $("chart-calls").alt = lang === "zh" ? "每小时来电" : "Calls per hour";
  $("chart-sl").src = `/api/wallboard/charts/service-level.svg?lang=${lang}&t=${stamp}`;
  $("chart-sl").alt = lang === "zh" ? "每小时服务水平" : "Service level per hour";
}

function tile(parent, key, value, id) {
  const div = document.createElement("div"); div.className = "tile";
  const v = document.createElement("span"); v.className = "v"; v.textContent = value === null ? "—" : value;
  if (id) v.id = id;
  const k = document.createElement("span"); k.className = "k"; k.textContent = t(key);
  div.append(v, k); parent.appendChild(div);
}

function button(label, handler) {
  const b = document.createElement("button"); b.type = "button"; b.className = "act"; b.textContent = t(label);
  b.addEventListener("click", handler); return b;
}

function render(data) {
  board = data; loadedAt = Date.now();
  $("seats").textContent = `${t("seats")} ${data.seats.open}/${data.seats.maximum}`;
  $("seats").dataset.open = data.seats.open;
  const totals = $("totals"); totals.replaceChildren();
  const waiting = data.queues.reduce((n, q) => n + q.waiting, 0);
  tile(totals, "total_waiting", waiting, "total-waiting");
  tile(totals, "offered", data.totals.offered_today, "total-offered");
  tile(totals, "answered", data.totals.answered_today, "total-answered");
  tile(totals, "sl", pct(data.totals.service_level)); tile(totals, "abandon", pct(data.totals.abandon_rate));
  tile(totals, "asa", secs(data.totals.asa_seconds)); tile(totals, "aht", secs(data.totals.aht_seconds));

  const qb = document.querySelector("#queues tbody"); qb.replaceChildren();
  for (const q of data.queues) {
    const row = qb.insertRow(); row.dataset.queue = q.name;
    cell(row, q.name); cell(row, q.waiting, "num waiting"); cell(row, secs(q.longest_wait_seconds), "num");
    cell(row, q.ready, "num ready"); cell(row, q.on_call + q.ringing, "num on-call"); cell(row, q.wrap_up, "num");
    cell(row, q.paused, "num"); cell(row, q.offered_today, "num"); cell(row, q.answered_today, "num answered");
    cell(row, pct(q.service_level), "num"); cell(row, pct(q.abandon_rate), "num");
    cell(row, secs(q.asa_seconds), "num"); cell(row, secs(q.aht_seconds), "num");
  }

  const ab = document.querySelector("#agents tbody"); ab.replaceChildren();
  for (const a of data.agents) {
    const row = ab.insertRow(); row.dataset.extension = a.extension;
    cell(row, a.extension); cell(row, a.name);
    const st = cell(row, (t("states")[a.state] || a.state) + (a.pause_reason ? ` (${t("r_" + a.pause_reason)})` : ""));
    st.className = "state-cell"; st.dataset.state = a.state;
    const since = cell(row, a.state === "logged-out" ? null : fmt(a.seconds_in_state), "num since");
    if (a.state !== "logged-out") since.dataset.base = String(a.seconds_in_state);
    cell(row, a.calls_today, "num");
    const actions = row.insertCell();
    if (a.state === "on-call") {
      for (const mode of ["listen", "whisper", "barge"]) actions.appendChild(button(mode, () => spy(a.extension, mode)));
    }
    if (a.state !== "logged-out") {
      actions.appendChild(button("force_pause", () => post(`/api/wallboard/agents/${a.extension}/pause`,
                                                             { reason: $("force-reason").value })));
      actions.appendChild(button("force_logout", () => post(`/api/wallboard/agents/${a.extension}/logout`)));
    }
    for (const [label, verb] of [["seat_open", "open"], ["seat_close", "close"], ["seat_release", "release"]]) {
      actions.appendChild(button(label, () => post(`/api/overflow/seats/${a.extension}/${verb}`)));
    }
  }

  const cb = document.querySelector("#calls tbody"); cb.replaceChildren();
  for (const c of data.calls) {
    const row = cb.insertRow();
    cell(row, c.arrived_at ? new Date(c.arrived_at).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB") : null);
    cell(row, c.caller_number); cell(row, c.menu_path); cell(row, c.queue); cell(row, c.agent);
    cell(row, c.answered_at ? t("talking") : t("queued"));
  }

  const list = $("alert-list"); list.replaceChildren();
  for (const alert of data.alerts) {
    const li = document.createElement("li");
    const d = alert.data || {};
    li.textContent = `${new Date(alert.received_at).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB")} `
      + [d.text, d.reason, d.queue, d.agent, d.linkedid].filter(Boolean).join(" · ") + " ";
    li.appendChild(button("ack", () => post(`/api/wallboard/alerts/${alert.id}/ack`)));
    list.appendChild(li);
  }
  $("alerts").hidden = data.alerts.length === 0;
}

function tickSince() {
  const elapsed = (Date.now() - loadedAt) / 1000;
  document.querySelectorAll("#agents td.since[data-base]").forEach((td) => { td.textContent = fmt(Number(td.dataset.base) + elapsed); });
}

async function post(url, body) {
  say("");
  const r = await api("POST", url, body);
  if (r.status === 404 || r.status === 405) {
    const data = await r.json().catch(() => ({}));
    say(data.detail && r.status === 404 && url.startsWith("/api/wallboard") ? data.detail : t("not_available")); return;
  }
  const data = await r.json().catch(() => ({}));
  say(r.ok ? t("done") : (typeof data.detail === "string" ? data.detail : JSON.stringify(data.detail || data.error || r.status)));
  refreshSoon();
}
function spy(extension, mode) {
  const mine = $("my-ext").value.trim();
  post(`/api/wallboard/agents/${extension}/spy`, mine ? { mode, supervisor_extension: mine } : { mode });
}

async function refresh() {
  const r = await api("GET", "/api/wallboard");
  if (r.ok) render(await r.json());
}
let pending = null;
function refreshSoon() { if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 100); }

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${proto}://${location.host}/ws`);
  socket.onopen = () => { $("live").textContent = t("online"); $("live").className = "badge ok"; refresh(); };
  socket.onclose = (ev) => {
    $("live").textContent = t("offline"); $("live").className = "badge down";
    if (ev.code === 4401) { location.href = "/login?next=/wallboard"; return; }
    setTimeout(connect, 2000);
  };
  socket.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    refreshSoon();
    if (msg.topic === "call" && msg.data.ended_at) charts();
  };
}

applyLanguage();
refresh();
connect();
setInterval(tickSince, 1000);
setInterval(refresh, 15000);
setInterval(charts, 60000);
