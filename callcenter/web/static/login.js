"use strict";
const TEXT = {
  zh: { title: "12355 青少年服务台 · 登录", username: "用户名", password: "密码", submit: "登录",
        wrong: "用户名或密码错误", limited: "失败次数过多，请稍后再试", failed: "登录失败", switch: "English" },
  en: { title: "12355 Youth Hotline · log in", username: "User name", password: "Password", submit: "Log in",
        wrong: "Wrong user name or password", limited: "Too many failed logins; try again later",
        failed: "Login failed", switch: "中文" },
};
let lang = localStorage.getItem("hotline.lang") || "zh";
function t(k) { return TEXT[lang][k]; }
function applyLanguage() {
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
  document.getElementById("lang").textContent = t("switch");
  document.title = t("title");
}
document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "zh" ? "en" : "zh"; localStorage.setItem("hotline.lang", lang); applyLanguage();
});
document.getElementById("login").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const error = document.getElementById("error"); error.textContent = "";
  const body = { username: document.getElementById("username").value, password: document.getElementById("password").value };
  const r = await fetch("/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" },
                                             body: JSON.stringify(body) });
  if (r.ok) {
    const me = await r.json();
    const next = new URLSearchParams(location.search).get("next");
    location.href = next && next.startsWith("/") && !next.startsWith("//") ? next : homeOf(me.roles);
    return;
  }
  error.textContent = r.status === 401 ? t("wrong") : r.status === 429 ? t("limited") : t("failed");
});
// Each role's own page: agents their panel, supervisors the wallboard, city/county staff their work orders.
function homeOf(roles) {
  if (roles.includes("supervisor") || roles.includes("admin")) return "/wallboard";
  if (roles.includes("agent") || roles.includes("callback-agent")) return "/panel";
  if (roles.includes("unit-staff")) return "/workorders";
  if (roles.includes("ops")) return "/menu";
  return "/";
}
applyLanguage();
