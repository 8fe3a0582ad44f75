"""CSV and XLSX export. Work orders are streamed: rows are read with a server-side cursor in batches and
written out as they come (CSV chunk by chunk; XLSX through openpyxl's write-only workbook, which spools
rows to a temporary file), so memory stays bounded whatever the number of orders."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import tempfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from routing.callerid import is_anonymous

ORDER_COLUMNS = (
    "id",
    "linkedid",
    "caller_number",
    "created_at",
    "status",
    "service_line",
    "topic",
    "risk_level",
    "disposition",
    "age_band",
    "gender",
    "identity",
    "region",
    "confidential",
    "unit_code",
    "deadline_at",
    "escalation_level",
    "escalated_to",
    "followed_up_at",
    "closed_at",
    "summary",
    "result",
    "anonymous",  # the caller showed no usable number (routing.callerid); caller_number is then empty
)
CSV_BOM = "\ufeff"  # spreadsheet programs read UTF-8 CSV (Chinese text) correctly with it


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def order_values(order: Any, number: Callable[[Any], str | None]) -> list[Any]:
    derived = {"caller_number": number(order), "anonymous": is_anonymous(order.caller_number)}
    return [derived[c] if c in derived else _cell(getattr(order, c)) for c in ORDER_COLUMNS]


def csv_text(rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue()


async def orders_csv(
    orders: AsyncIterator[Any], number: Callable[[Any], str | None], *, chunk_rows: int = 1000
) -> AsyncIterator[bytes]:
    """The CSV of ``orders`` in chunks of ``chunk_rows`` rows (a header first)."""
    yield (CSV_BOM + csv_text([ORDER_COLUMNS])).encode()
    batch: list[list[Any]] = []
    async for order in orders:
        batch.append(order_values(order, number))
        if len(batch) >= chunk_rows:
            yield csv_text(batch).encode()
            batch = []
    if batch:
        yield csv_text(batch).encode()


async def orders_xlsx(
    orders: AsyncIterator[Any], number: Callable[[Any], str | None], *, batch_rows: int = 2000
) -> Path:
    """Write ``orders`` to a temporary .xlsx (write-only workbook, rows appended in batches off the event
    loop) and return its path; the caller streams it and deletes it."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("work orders")
    batch: list[list[Any]] = []

    def append(rows: list[list[Any]]) -> None:
        for row in rows:
            ws.append(_cells(row))

    with _given_up_if_unsaved(ws):
        ws.append(list(ORDER_COLUMNS))
        async for order in orders:
            batch.append(order_values(order, number))
            if len(batch) >= batch_rows:
                await asyncio.to_thread(append, batch)
                batch = []
        if batch:
            await asyncio.to_thread(append, batch)
        return await asyncio.to_thread(_save, wb)


def rows_xlsx(rows: Iterable[Sequence[Any]], sheet: str = "report") -> Path:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet)
    with _given_up_if_unsaved(ws):
        for row in rows:
            ws.append(_cells(row))
        return _save(wb)


@contextmanager
def _given_up_if_unsaved(ws: WriteOnlyWorksheet) -> Iterator[None]:
    """An export that fails or is cancelled half-way (the database, the client gone) leaves a write-only
    sheet whose row writer openpyxl finishes only when the object is collected, later, against a file it
    has closed: an "exception ignored" in whatever runs then. Close the sheet now and remove its
    temporary file."""
    try:
        yield
    except BaseException:
        if not ws.closed:
            ws.close()
        # the sheet's temporary file, which openpyxl removes only after a save
        writer: Any = getattr(ws, "_writer", None)
        if writer is not None:
            writer.cleanup()
        raise


def _cells(row: Sequence[Any]) -> list[Any]:
    """Control characters (typed into a note, say) are illegal in XLSX: openpyxl refuses the row and the
    whole export failed with a 500 (found by tests/fuzz/test_openapi_fuzz.py). Drop them."""
    return [ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row]


def _save(wb: Workbook) -> Path:
    fd, name = tempfile.mkstemp(prefix="hotline-export-", suffix=".xlsx")
    os.close(fd)
    try:
        wb.save(name)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


async def file_chunks(path: Path, chunk: int = 256 * 1024) -> AsyncIterator[bytes]:
    """Stream a temporary file and delete it afterwards (also when the client goes away)."""
    try:
        fh = await asyncio.to_thread(path.open, "rb")
        try:
            while data := await asyncio.to_thread(fh.read, chunk):
                yield data
        finally:
            fh.close()
    finally:
        await asyncio.to_thread(path.unlink, True)
