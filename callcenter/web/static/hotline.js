"use strict";
// The live page: queues from the live model, recent calls from the database. Chinese first, English on demand.
const TEXT = {
  zh: { title: "12355 青少年服务台 · 实时队列与通话", queues: "队列", queue: "队列", waiting: "等待",
        longest: "最长等待", available: "空闲坐席", members: "坐席", calls: "最近通话", arrived: "来电时间",
        caller: "来电号码", path: "菜单路径", agent: "坐席", wait: "等待(秒)", talk: "通话(秒)",
        disposition: "结果", refresh: "每 2 秒自动刷新。", ami_ok: "AMI 已连接", ami_down: "AMI 未连接",
        ami_unknown: "AMI 状态未知", switch: "English",
        disp: { answered: "已接听", abandoned: "放弃", "queue-timeout": "排队超时", "queue-callback": "排队中预约回电",
                "ivr-callback": "菜单中预约回电", "ivr-hangup": "菜单中挂机",
                "out-of-hours": "非工作时间", blocked: "已拦截", unanswered: "未接通", null: "进行中" } },
  en: { title: "12355 Youth Hotline · live queues and calls", queues: "Queues", queue: "Queue",
        waiting: "Waiting", longest: "Longest wait", available: "Agents free", members: "Agents",
        calls: "Recent calls", arrived: "Arrived", caller: "Caller", path: "Menu path", agent: "Agent",
        wait: "Wait (s)", talk: "Talk (s)", disposition: "Outcome", refresh: "Refreshes every 2 seconds.",
        ami_ok: "AMI connected", ami_down: "AMI disconnected", ami_unknown: "AMI unknown", switch: "中文",
        disp: { answered: "answered", abandoned: "abandoned", "queue-timeout": "queue timeout",
                "queue-callback": "left the queue for a callback", "ivr-callback": "callback booked in menu",
                "ivr-hangup": "hung up in menu", "out-of-hours": "out of hours", blocked: "blocked",
                unanswered: "unanswered", null: "in progress" } },
};
let lang = localStorage.getItem("hotline.lang") || "zh";

function t(key) { return TEXT[lang][key]; }
function cell(row, text, cls) {
  const td = row.insertCell(); td.textContent = text === null || text === undefined ? "—" : String(text);
  if (cls) td.className = cls; return td;
}
function secs(v) { return v === null || v === undefined ? null : Math.round(v); }
function when(v) { return v ? new Date(v).toLocaleTimeString(lang === "zh" ? "zh-CN" : "en-GB") : null; }

function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.getElementById("lang").textContent = t("switch");
  document.title = t("title");
}

async function refresh() {
  try {
    const responses = await Promise.all(["/api/queues", "/api/calls?limit=30", "/healthz"].map((u) => fetch(u)));
    if (responses.some((r) => r.status === 401)) { location.href = "/login?next=/"; return; }
    const [queues, calls, health] = await Promise.all(responses.map((r) => r.json()));
    const qb = document.querySelector("#queues tbody"); qb.replaceChildren();
    for (const q of queues) {
      const row = qb.insertRow();
      cell(row, q.name); cell(row, q.waiting, "num"); cell(row, secs(q.longest_wait_seconds), "num");
      cell(row, q.available, "num"); cell(row, q.members.map((m) => m.name).join(" "));
    }
    const cb = document.querySelector("#calls tbody"); cb.replaceChildren();
    for (const c of calls) {
      const row = cb.insertRow();
      cell(row, when(c.arrived_at)); cell(row, c.caller_number); cell(row, c.menu_path); cell(row, c.queue);
      cell(row, c.agent); cell(row, secs(c.wait_seconds), "num"); cell(row, secs(c.talk_seconds), "num");
      cell(row, t("disp")[String(c.disposition)], "disp-" + c.disposition);
    }
    const ami = document.getElementById("ami");
    ami.textContent = health.ami_connected ? t("ami_ok") : t("ami_down");
    ami.className = "badge " + (health.ami_connected ? "ok" : "down");
  } catch (err) {
    const ami = document.getElementById("ami"); ami.textContent = t("ami_unknown"); ami.className = "badge";
  }
}

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("hotline.lang", lang); applyLanguage(); refresh();
});
applyLanguage();
refresh();
setInterval(refresh, 2000);
