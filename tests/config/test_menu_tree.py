"""The menu tree page: what callers of each language hear, as data and as HTML."""

from __future__ import annotations

from dataclasses import replace

from callcenter.config.loader import load_plan
from callcenter.config.menu_tree import TreeNode, menu_tree, menu_tree_html, menu_trees
from callcenter.settings import PROJECT_ROOT

IM = load_plan(PROJECT_ROOT / "config" / "hotline.yaml")
GD = load_plan(PROJECT_ROOT / "config" / "guangdong.yaml")


def child(node: TreeNode, key: str) -> TreeNode:
    return next(c for c in node.children if c.key == key)


def test_mandarin_tree() -> None:
    root = menu_tree(IM, "zh")
    assert (root.kind, root.label, root.prompt) == ("menu", "menu language", "hotline/choose-language")
    assert root.transcript is not None and root.transcript.startswith("您好")
    assert [c.key for c in root.children] == ["1", "2", "t"]
    assert child(root, "2").kind == "language" and "mn" in child(root, "2").label
    assert child(root, "t").label == "default queue zh-psychology 心理咨询"
    service = child(root, "1")
    assert (service.prompt, service.detail) == ("zh/choose-service", "waits 5 s for a key, 2 retries")
    assert [c.key for c in service.children] == ["1", "2", "3", "4", "5", "6", "0", "t"]
    assert child(service, "2").label == "queue zh-legal 法律援助"
    crisis = child(service, "0")
    assert (
        crisis.kind == "crisis"
        and crisis.label.startswith("queue zh-crisis")
        and "priority 10" in crisis.detail
    )
    more = child(service, "6")
    assert child(more, "3").label == "transfer to 法律服务 12348"
    assert child(more, "2").kind == "message" and child(more, "2").transcript is not None
    assert child(more, "9").kind == "loop" and child(more, "t").kind == "loop"


def test_mongolian_tree_uses_its_prompts_and_queues() -> None:
    root = menu_tree(IM, "mn")
    assert child(root, "1").kind == "language"
    service = child(root, "2")
    assert service.prompt == "mn/choose-service"
    legal = child(service, "2")
    assert legal.label == "queue mn-legal 法律援助"
    assert "waits at most 180 s, then queue zh-legal" in legal.detail


def test_single_language_hotline() -> None:
    trees = menu_trees(GD)
    assert list(trees) == ["zh"]
    root = trees["zh"]
    assert root.prompt == "hotline/welcome" and root.transcript is not None
    assert [c.key for c in root.children] == ["1", "2", "3", "0", "t"]


def test_html_page_is_escaped_and_has_every_language() -> None:
    page = menu_tree_html(IM)
    assert page.startswith("<!DOCTYPE html>")
    assert '<section lang="zh">' in page and '<section lang="mn">' in page
    assert "zh/choose-service" in page and "心理咨询请按1" in page
    assert menu_tree_html(IM) == page  # deterministic
    hostile = replace(IM, name="<script>alert(1)</script>")
    assert "<script>" not in menu_tree_html(hostile)
