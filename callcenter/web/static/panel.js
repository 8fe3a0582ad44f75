"use strict";
// The agents' panel: seat state over AMI, the ringing call, the screen pop and a minimal work order.
// Chinese first, English on a button; live over /ws (topic "agent" and "call"), keyboard usable.
const TEXT = {
  zh: { title: "12355 青少年服务台 · 坐席面板", offline: "未连接", online: "实时", seat: "座席", extension: "分机",
        state: "状态", in_state: "持续", login: "签入", ready: "就绪", pause_reason: "暂停原因", pause: "暂停",
        logout: "签出", r_break: "休息", r_meeting: "会议", r_training: "培训", "r_after-call-work": "话后处理",
        counts: "今日", answered: "接听", missed: "未接", softphone: "软电话",
        softphone_off: "未安装（由话机应答）", softphone_on: "已加载",
        softphone_registered: "已注册", softphone_failed: "注册失败", sip_password: "SIP 密码",
        sip_register: "注册软电话", answer: "接听", call: "当前来电", ringing_kind: "（振铃中）",
        caller: "来电号码", language: "语言", menu: "菜单路径", queue: "队列", wait: "等待(秒)", hangup: "挂断",
        transfer_to: "转接到", transfer: "转接", callback: "预约回拨", crisis: "标记危机",
        history: "来电历史（一人一档）", arrived: "来电时间", agent: "坐席", talk: "通话(秒)", disposition: "结果",
        workorder: "工单", service_line: "服务类别", risk: "风险等级", risk_none: "无", risk_low: "低",
        risk_medium: "中", risk_high: "高", risk_crisis: "危机", disposal: "处理方式", d_resolved: "当场解决",
        "d_follow-up": "回访", d_referral: "转办", d_transferred: "已转接", summary: "摘要", save: "保存工单",
        saved: "工单已保存", save_failed: "工单保存失败", no_history: "无历史来电", wrapup_left: "话后剩余",
        not_available: "此功能尚未开放", done: "已完成", switch: "English",
        states: { "logged-out": "未签入", ready: "就绪", ringing: "振铃", "on-call": "通话中", "wrap-up": "话后整理",
                  paused: "暂停" },
        langs: { zh: "普通话", mn: "蒙古语" },
        disp: { answered: "已接听", abandoned: "放弃", "queue-timeout": "排队超时", "queue-callback": "排队中预约回电",
                "ivr-callback": "菜单中预约回电", "ivr-hangup": "菜单中挂机",
                "out-of-hours": "非工作时间", blocked: "已拦截", unanswered: "未接通", null: "进行中" } },
  en: { title: "12355 Youth Hotline · agent panel", offline: "offline", online: "live", seat: "Seat",
        extension: "Extension", state: "State", in_state: "for", login: "Log in", ready: "Ready",
        pause_reason: "Pause reason", pause: "Pause", logout: "Log out", r_break: "Break", r_meeting: "Meeting",
        r_training: "Training", "r_after-call-work": "After-call work", counts: "Today", answered: "answered",
        missed: "missed", softphone: "Softphone", softphone_off: "not installed (the phone answers)",
        softphone_on: "loaded", softphone_registered: "registered", softphone_failed: "registration failed",
        sip_password: "SIP password", sip_register: "Register softphone", answer: "Answer", call: "Call in hand", ringing_kind: "(ringing)", caller: "Caller",
        language: "Language", menu: "Menu path", queue: "Queue", wait: "Wait (s)", hangup: "Hang up",
        transfer_to: "Transfer to", transfer: "Transfer", callback: "Book a call-back", crisis: "Mark crisis",
        history: "Earlier calls (one person, one file)", arrived: "Arrived", agent: "Agent", talk: "Talk (s)",
        disposition: "Outcome", workorder: "Work order", service_line: "Service line", risk: "Risk",
        risk_none: "none", risk_low: "low", risk_medium: "medium", risk_high: "high", risk_crisis: "crisis",
        disposal: "Disposition", d_resolved: "resolved", "d_follow-up": "follow-up", d_referral: "referral",
        d_transferred: "transferred", summary: "Summary", save: "Save work order", saved: "Work order saved",
        save_failed: "Could not save the work order", no_history: "No earlier calls", wrapup_left: "wrap-up left",
        not_available: "Not available yet", done: "Done", switch: "中文",
        states: { "logged-out": "logged out", ready: "ready", ringing: "ringing", "on-call": "on a call",
                  "wrap-up": "wrap-up", paused: "paused" },
        langs: { zh: "Mandarin", mn: "Mongolian" },
        disp: { answered: "answered", abandoned: "abandoned", "queue-timeout": "queue timeout",
                "queue-callback": "left the queue for a callback", "ivr-callback": "callback booked in menu",
                "ivr-hangup": "hung up in menu", "out-of-hours": "out of hours", blocked: "blocked",
                unanswered: "unanswered", null: "in progress" } },
};
let lang = localStorage.getItem("hotline.lang") || "zh";
let config = null;
let current = null;      // the last state from the server
let shownCall = null;    // linkedid whose screen pop is shown
let sinceBase = 0;       // Date.now() - seconds_in_state*1000 when the state arrived
let workOrders = false;  // does /api/workorders exist?

const $ = (id) => document.getElementById(id);
function t(key) { return TEXT[lang][key]; }
function cell(row, text) { const td = row.insertCell(); td.textContent = text === null || text === undefined ? "—" : String(text); return td; }

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $("lang").textContent = t("switch");
  document.title = t("title");
  if (current) render(current);
}
$("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("hotline.lang", lang); applyLanguage();
});

function seat() { return (config && config.extension) || $("extension").value.trim(); }
function stateUrl() {
  return config && config.extension ? "/api/panel/state" : "/api/panel/state?extension=" + encodeURIComponent(seat());
}
async function api(method, url, body) {
  const r = await fetch(url, { method, headers: body ? { "Content-Type": "application/json" } : {},
                               body: body ? JSON.stringify(body) : undefined });
  if (r.status === 401) { location.href = "/login?next=/panel"; throw new Error("log in"); }
  return r;
}
function say(text) { $("message").textContent = text || ""; }

async function refresh() {
  if (!seat()) return;
  const r = await api("GET", stateUrl());
  if (r.ok) render(await r.json()); else say((await r.json()).detail || r.status);
}

function fmt(seconds) {
  const s = Math.max(0, Math.floor(seconds)); const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`
                 : `${m}:${String(s % 60).padStart(2, "0")}`;
}
function tick() {
  if (!current) return;
  $("timer").textContent = fmt((Date.now() - sinceBase) / 1000);
  if (current.state === "wrap-up" && current.wrapup_until) {
    const left = (new Date(current.wrapup_until).getTime() - Date.now()) / 1000;
    $("wrapup").textContent = ` · ${t("wrapup_left")} ${fmt(Math.max(0, left))}`;
  } else { $("wrapup").textContent = ""; }
}

function render(s) {
  current = s;
  sinceBase = Date.now() - s.seconds_in_state * 1000;
  const el = $("state"); el.dataset.state = s.state; el.textContent = t("states")[s.state] || s.state;
  $("reason").textContent = s.pause_reason ? `(${t("r_" + s.pause_reason)}${s.paused_by ? " · " + s.paused_by : ""})`
                          : s.pending_pause ? `→ ${t("r_" + s.pending_pause)}` : "";
  $("answered").textContent = s.answered_today; $("missed").textContent = s.missed_today;
  const out = s.state === "logged-out";
  $("btn-login").disabled = !out;
  $("btn-ready").disabled = !(s.state === "paused" || (s.pending_pause && s.state !== "ready"));
  $("btn-pause").disabled = out || s.state === "ringing";
  $("btn-logout").disabled = out || s.state === "ringing" || s.state === "on-call";
  tick();
  const call = s.call;
  $("call").hidden = !call;
  if (!call) { shownCall = null; return; }
  $("call-kind").textContent = s.state === "ringing" ? t("ringing_kind") : "";
  $("call-number").textContent = call.caller_number || "—";
  $("call-language").textContent = (t("langs")[call.language] || call.language || "—");
  $("call-menu").textContent = call.menu_path || "—";
  $("call-queue").textContent = call.queue || "—";
  $("call-wait").textContent = call.wait_seconds === null ? "—" : Math.round(call.wait_seconds);
  const inHand = s.state === "on-call";
  for (const id of ["btn-hangup", "btn-transfer", "btn-crisis"]) $(id).disabled = !inHand;
  if (shownCall !== call.linkedid) { shownCall = call.linkedid; screenPop(call); }
}

async function screenPop(call) {
  const body = document.querySelector("#history tbody"); body.replaceChildren();
  $("file").replaceChildren(); $("wo-result").textContent = "";
  if (call.caller_number) {
    const r = await api("GET", `/api/panel/callers/${encodeURIComponent(call.caller_number)}/calls`);
    const rows = r.ok ? (await r.json()).filter((c) => c.linkedid !== call.linkedid) : [];
    if (!rows.length) { const row = body.insertRow(); const td = cell(row, t("no_history")); td.colSpan = 6; }
    for (const c of rows) {
      const row = body.insertRow();
      cell(row, c.arrived_at ? new Date(c.arrived_at).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB") : null);
      cell(row, c.menu_path); cell(row, c.queue); cell(row, c.agent);
      cell(row, c.talk_seconds === null ? null : Math.round(c.talk_seconds)); cell(row, t("disp")[String(c.disposition)]);
    }
    // The caller's file (work orders) when the work-order service is there; nothing otherwise.
    const f = await fetch(`/api/callers/${encodeURIComponent(call.caller_number)}/file`);
    if (f.ok) renderFile(await f.json());
  }
  $("wo-form").hidden = !workOrders;
}

function renderFile(file) {
  const orders = Array.isArray(file) ? file : (file.work_orders || file.workorders || []);
  if (!orders.length) return;
  const list = document.createElement("ul"); list.className = "orders";
  for (const o of orders) {
    const li = document.createElement("li");
    li.textContent = [o.number || o.id, o.service_line, o.risk_level, o.status, o.summary].filter(Boolean).join(" · ");
    list.appendChild(li);
  }
  const h = document.createElement("h3"); h.textContent = t("workorder"); $("file").replaceChildren(h, list);
}

async function act(path, body) {
  say("");
  const r = await api("POST", `/api/panel/${encodeURIComponent(seat())}/${path}`, body);
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { say(data.detail || data.error || r.status); return; }
  if (data.state) render(data);
}
$("btn-login").addEventListener("click", () => act("login"));
$("btn-ready").addEventListener("click", () => act("ready"));
$("btn-pause").addEventListener("click", () => act("pause", { reason: $("pause-reason").value }));
$("btn-logout").addEventListener("click", () => act("logout"));
$("btn-hangup").addEventListener("click", () => act("hangup"));

async function other(url, body) {
  say("");
  const r = await api("POST", url, body);
  if (r.status === 404 || r.status === 405) { say(t("not_available")); return null; }
  const data = await r.json().catch(() => ({}));
  if (!r.ok) { say(data.detail || data.error || r.status); return null; }
  say(t("done")); return data;
}
$("btn-transfer").addEventListener("click", () => {
  if (current && current.call) other(`/api/calls/${encodeURIComponent(current.call.linkedid)}/transfer`,
                                     { target: $("transfer-target").value, mode: "blind" });
});
$("btn-crisis").addEventListener("click", () => {
  if (current && current.call) other(`/api/calls/${encodeURIComponent(current.call.linkedid)}/crisis`, {});
});
$("btn-callback").addEventListener("click", () => {
  if (current && current.call) other("/api/callbacks", { linkedid: current.call.linkedid,
                                                         number: current.call.caller_number });
});

$("wo-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  if (!current || !current.call) return;
  const body = { linkedid: current.call.linkedid, service_line: $("wo-service").value,
                 summary: $("wo-summary").value, risk_level: $("wo-risk").value,
                 disposition: $("wo-disposition").value };
  const r = await api("POST", "/api/workorders", body);
  const data = await r.json().catch(() => ({}));
  $("wo-result").textContent = r.ok ? `${t("saved")} ${data.number || data.id || ""}`
                                    : `${t("save_failed")}: ${data.detail ? JSON.stringify(data.detail) : r.status}`;
  $("wo-result").className = r.ok ? "saved" : "error";
});

// The softphone (JsSIP over Asterisk's WSS transport). The SIP password is typed by the agent, never stored.
let sipSession = null;
$("btn-sip").addEventListener("click", () => {
  const JsSIP = window.JsSIP;
  if (!JsSIP || !config.softphone_wss_url) return;
  const domain = config.softphone_sip_domain || new URL(config.softphone_wss_url).hostname;
  const ua = new JsSIP.UA({ sockets: [new JsSIP.WebSocketInterface(config.softphone_wss_url)],
                            uri: `sip:${config.extension}@${domain}`, password: $("sip-password").value });
  $("sip-password").value = "";
  const status = (key) => { $("softphone").dataset.i18n = key; $("softphone").textContent = t(key); };
  ua.on("registered", () => status("softphone_registered"));
  ua.on("registrationFailed", () => status("softphone_failed"));
  ua.on("newRTCSession", (ev) => {
    if (ev.originator !== "remote") return;
    sipSession = ev.session; $("btn-answer").hidden = false; $("btn-answer").focus();
    sipSession.on("ended", () => { $("btn-answer").hidden = true; sipSession = null; });
    sipSession.on("failed", () => { $("btn-answer").hidden = true; sipSession = null; });
    sipSession.on("peerconnection", (e) => e.peerconnection.addEventListener("track", (tr) => {
      const audio = new Audio(); audio.srcObject = tr.streams[0]; audio.play();
    }));
  });
  ua.start();
});
$("btn-answer").addEventListener("click", () => {
  if (sipSession) { sipSession.answer({ mediaConstraints: { audio: true, video: false } }); $("btn-answer").hidden = true; }
});

let socket = null;
function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${proto}://${location.host}/ws?topics=agent,call`);
  socket.onopen = () => { $("live").textContent = t("online"); $("live").className = "badge ok"; refresh(); };
  socket.onclose = (ev) => {
    $("live").textContent = t("offline"); $("live").className = "badge down";
    if (ev.code === 4401) { location.href = "/login?next=/panel"; return; }
    setTimeout(connect, 2000);
  };
  socket.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    if (msg.topic === "agent" && msg.data.extension === seat()) refreshSoon();
    else if (msg.topic === "call" && current && current.call_id === msg.data.linkedid) refreshSoon();
  };
}
let pending = null;
function refreshSoon() { if (!pending) pending = setTimeout(() => { pending = null; refresh(); }, 50); }

async function start() {
  const r = await api("GET", "/api/panel/config");
  config = await r.json();
  $("who").textContent = `${config.display_name} (${config.username})`;
  $("extension").value = config.extension || localStorage.getItem("hotline.panel.ext") || "";
  $("extension").disabled = !!config.extension;
  $("extension").addEventListener("change", () => { localStorage.setItem("hotline.panel.ext", seat()); refresh(); });
  const target = $("transfer-target");
  for (const q of config.queues) target.add(new Option(`${t("queue")} ${q}`, q));
  for (const h of config.external_hotlines) target.add(new Option(`${h.key} ${h.name}`, h.key));
  for (const s of config.service_lines) $("wo-service").add(new Option(`${s.name} (${s.code})`, s.code));
  workOrders = (await fetch("/api/workorders?limit=1")).ok;
  if (config.softphone) {
    const script = document.createElement("script"); script.src = "/static/vendor/jssip.min.js";
    script.onload = () => {
      $("softphone").dataset.i18n = "softphone_on"; $("softphone").textContent = t("softphone_on");
      $("sip").hidden = !(config.softphone_wss_url && config.extension);
    };
    document.body.appendChild(script);
  }
  applyLanguage();
  await refresh();
  connect();
  setInterval(tick, 1000);
  setInterval(refresh, 10000);
}
start();
