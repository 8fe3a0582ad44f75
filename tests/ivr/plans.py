"""The example plan of ``config/hotline.yaml``, built by hand (the YAML loader lives elsewhere)."""

from __future__ import annotations

from dataclasses import replace

from routing.plan import (
    ActionKind,
    HotlinePlan,
    Language,
    Menu,
    MenuAction,
    QueuePlan,
    ServiceLine,
)

LANGUAGES = ("zh", "mn")
SERVICE_LINES = ("psychology", "legal", "drugs-aids", "adolescent", "family")
SERVICE_KEYS = {str(i + 1): line for i, line in enumerate(SERVICE_LINES)}


def example_plan() -> HotlinePlan:
    language_menu = Menu(
        name="language",
        prompt="choose-language",
        timeout_seconds=5,
        retries=2,
        options={
            "1": MenuAction(ActionKind.SUBMENU, "service", language="zh"),
            "2": MenuAction(ActionKind.SUBMENU, "service", language="mn"),
        },
    )
    service_menu = Menu(
        name="service",
        prompt="choose-service",
        timeout_seconds=5,
        retries=2,
        options={
            key: MenuAction(ActionKind.QUEUE, f"{{language}}-{line}") for key, line in SERVICE_KEYS.items()
        },
    )
    return HotlinePlan(
        number="12355",
        name="内蒙古12355青少年服务台",
        languages=(Language("zh", "普通话", "zh"), Language("mn", "蒙古语", "mn")),
        service_lines=tuple(ServiceLine(code, code) for code in SERVICE_LINES),
        queues=tuple(QueuePlan(f"{lang}-{line}", line, lang) for lang in LANGUAGES for line in SERVICE_LINES),
        default_queue="zh-psychology",
        entry_menu="language",
        menus={"language": language_menu, "service": service_menu},
        default_language="zh",
    )


def with_menu(plan: HotlinePlan, menu: Menu) -> HotlinePlan:
    return replace(plan, menus={**plan.menus, menu.name: menu})
