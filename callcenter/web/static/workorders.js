// The work-order list and detail for the centre and for city / county units: deadlines highlighted,
// accept / reject / progress / follow-up / close. Chinese first; English on a button. No library.
"use strict";
(() => {
  const T = {
    zh: { title: "12355 工单与转办", en: "English", status: "状态", all: "全部", referred: "待接收",
      accepted: "办理中", rejected: "已退回", open: "待回访", closed: "已办结", draft: "草稿",
      overdueOnly: "只看超期", csv: "导出 CSV", xlsx: "导出 XLSX", list: "工单列表", line: "服务类别",
      topic: "话题", risk: "风险", statusCol: "状态", unit: "承办单位", deadline: "办理时限", accept: "接收",
      reject: "退回", progress: "办理进展", followUp: "回访", close: "办结", history: "办理记录",
      askReason: "退回原因：", askNote: "办理进展：", askResult: "办结结果：", askFollow: "回访记录：",
      askReached: "是否联系到来电人？（确定=是）", order: "工单", caller: "来电号码",
      anonymous: "匿名来电", anonymousOnly: "只看匿名来电" },
    en: { title: "12355 work orders and referrals", en: "中文", status: "Status", all: "All",
      referred: "To accept", accepted: "In progress", rejected: "Rejected", open: "To follow up",
      closed: "Closed", draft: "Draft", overdueOnly: "Overdue only", csv: "Export CSV", xlsx: "Export XLSX",
      list: "Work orders", line: "Service line", topic: "Topic", risk: "Risk", statusCol: "Status",
      unit: "Unit", deadline: "Deadline", accept: "Accept", reject: "Reject", progress: "Progress",
      followUp: "Follow-up call", close: "Close", history: "History", askReason: "Reason for rejecting:",
      askNote: "Progress note:", askResult: "Result:", askFollow: "Follow-up note:",
      askReached: "Did you reach the caller? (OK = yes)", order: "Work order", caller: "Caller",
      anonymous: "anonymous caller", anonymousOnly: "Anonymous callers only" },
  };
  let lang = localStorage.getItem("hotline-lang") || "zh";
  let current = null;
  let loads = 0; // filters change faster than answers come: only the latest list is drawn
  const $ = (sel) => document.querySelector(sel);
  const t = (key) => (T[lang] && T[lang][key]) || key;

  function applyLang() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("#lang").textContent = t("en");
  }

  async function api(path, options = {}) {
    const response = await fetch(path, { credentials: "same-origin", headers: { "Content-Type": "application/json" }, ...options });
    if (response.status === 401) { location.href = "/login"; throw new Error("log in"); }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const d = body.detail;
      throw new Error(typeof d === "object" && d ? d.message || d.error : d || response.statusText);
    }
    return body;
  }

  function deadlineClass(o) {
    if (!o.deadline_at || !["referred", "accepted"].includes(o.status)) return "";
    if (o.overdue) return "overdue";
    return new Date(o.deadline_at) - Date.now() < 24 * 3600 * 1000 ? "due-soon" : "";
  }

  // An anonymous caller (no caller ID, "anonymous", "Restricted" …) is named as such, never an empty cell.
  const callerOf = (o) => o.caller_number || (o.anonymous ? t("anonymous") : "");

  async function load() {
    const mine = ++loads;
    const params = new URLSearchParams();
    if ($("#status").value) params.set("status", $("#status").value);
    if ($("#overdue").checked) params.set("overdue", "true");
    const anonymous = $("#anonymous").checked ? "?anonymous=true" : "";
    $("#export-csv").href = `/api/reports/workorders.csv${anonymous}`;
    $("#export-xlsx").href = `/api/reports/workorders.xlsx${anonymous}`;
    if (anonymous) params.set("anonymous", "true");
    const orders = await api(`/api/workorders?${params}`);
    if (mine !== loads) return;
    const body = $("#orders tbody");
    body.replaceChildren();
    for (const o of orders) {
      const tr = document.createElement("tr");
      tr.tabIndex = 0;
      tr.className = [deadlineClass(o), o.escalation_level ? "escalated" : ""].join(" ").trim();
      const cells = [o.id, callerOf(o), o.service_line, o.topic || "", o.risk_level, t(o.status),
        o.unit_name || o.unit_code || "", o.deadline_at ? new Date(o.deadline_at).toLocaleString() : ""];
      cells.forEach((value, i) => {
        const td = document.createElement("td");
        td.textContent = String(value);
        if (i === 1) td.className = o.anonymous ? "caller anonymous" : "caller";
        if (i === 7) td.className = "deadline";
        tr.append(td);
      });
      tr.addEventListener("click", () => show(o.id));
      tr.addEventListener("keydown", (e) => { if (e.key === "Enter") show(o.id); });
      body.append(tr);
    }
  }

  async function show(id) {
    const o = await api(`/api/workorders/${id}`);
    current = o;
    $("#detail").hidden = false;
    $("#detail-title").textContent = [`${t("order")} #${o.id}`, t(o.status), callerOf(o)].filter(Boolean).join(" · ");
    $("#summary").textContent = o.summary;
    $("#error").textContent = "";
    const list = $("#history");
    list.replaceChildren();
    for (const h of o.history) {
      const li = document.createElement("li");
      li.textContent = `${new Date(h.at).toLocaleString()} ${h.actor} ${h.action}${h.unit_code ? " → " + h.unit_code : ""}${h.note ? ": " + h.note : ""}`;
      list.append(li);
    }
  }

  async function act(action) {
    if (!current) return;
    let body = { version: current.version };
    if (action === "reject") body.reason = prompt(t("askReason")) || "";
    if (action === "progress") body.note = prompt(t("askNote")) || "";
    if (action === "close") body.result = prompt(t("askResult")) || "";
    if (action === "follow-up") body = { ...body, note: prompt(t("askFollow")) || "", reached: confirm(t("askReached")) };
    try {
      await api(`/api/workorders/${current.id}/${action}`, { method: "POST", body: JSON.stringify(body) });
      await show(current.id);
      await load();
    } catch (err) {
      $("#error").textContent = err.message;
    }
  }

  document.querySelectorAll("[data-act]").forEach((b) => b.addEventListener("click", () => act(b.dataset.act)));
  $("#status").addEventListener("change", load);
  $("#overdue").addEventListener("change", load);
  $("#anonymous").addEventListener("change", load);
  $("#lang").addEventListener("click", () => {
    lang = lang === "zh" ? "en" : "zh";
    localStorage.setItem("hotline-lang", lang);
    applyLang();
    load();
  });
  applyLang();
  load().catch((err) => { $("#error").textContent = err.message; });
})();
