"""XLSX exports that fail half-way leave nothing behind: no temporary file, no late error elsewhere."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from openpyxl.worksheet import _writer

from callcenter.reports.export import ORDER_COLUMNS, orders_xlsx, rows_xlsx


class DatabaseGone(Exception):
    pass


@pytest.fixture
def late_errors() -> Iterator[list[str]]:
    """What Python reports as "exception ignored" (e.g. in a generator closed by the collector)."""
    seen: list[str] = []
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: seen.append(repr(unraisable.exc_value))
    try:
        yield seen
    finally:
        sys.unraisablehook = previous


def _temporary_files() -> set[str]:
    return {name for name in _writer.ALL_TEMP_FILES if Path(name).exists()}


async def test_an_order_export_that_fails_half_way_leaves_nothing_behind(late_errors: list[str]) -> None:
    before = _temporary_files()

    async def orders() -> AsyncIterator[Any]:
        for i in range(5):
            yield SimpleNamespace(**{column: f"{column}-{i}" for column in ORDER_COLUMNS})
        raise DatabaseGone("the connection dropped")

    with pytest.raises(DatabaseGone):
        await orders_xlsx(orders(), lambda _order: None, batch_rows=2)
    gc.collect()
    assert late_errors == []
    assert _temporary_files() == before


def test_a_report_export_that_fails_half_way_leaves_nothing_behind(late_errors: list[str]) -> None:
    before = _temporary_files()

    def rows() -> Iterator[list[Any]]:
        yield ["queue", "offered"]
        yield ["zh-legal", 3]
        raise DatabaseGone("the connection dropped")

    with pytest.raises(DatabaseGone):
        rows_xlsx(rows())
    gc.collect()
    assert late_errors == []
    assert _temporary_files() == before
