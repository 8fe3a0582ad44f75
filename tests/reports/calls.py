"""Finished calls as the live model writes them, for the report fixtures computed by hand."""

from __future__ import annotations

from datetime import datetime, timedelta

from callcenter.records import CallRecord, Disposition


def finished_call(
    linkedid: str,
    disposition: Disposition,
    *,
    at: datetime,
    number: str | None,
    queue: str | None,
    language: str = "zh",
    wait: float | None = None,
    talk: float | None = None,
    tail_seconds: float = 0.0,
) -> CallRecord:
    """Arrived (and, with a queue, joined it) at ``at``; answered after ``wait`` seconds when answered; ended
    after the wait, the talk and ``tail_seconds`` more (a goodbye, a confirmation prompt)."""
    return CallRecord(
        linkedid=linkedid,
        uniqueid=linkedid,
        caller_number=number,
        queue=queue,
        language=language,
        arrived_at=at,
        queue_joined_at=at if queue else None,
        answered_at=at + timedelta(seconds=wait or 0) if disposition is Disposition.ANSWERED else None,
        ended_at=at + timedelta(seconds=(wait or 0) + (talk or 0) + tail_seconds),
        wait_seconds=wait,
        talk_seconds=talk,
        disposition=disposition,
        agent="1001" if talk else None,
    )
