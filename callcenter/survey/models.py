"""The survey's table: one row per question asked after a call (rated or not)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Identity, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import Base

TS = DateTime(timezone=True)


class SurveyRating(Base):
    """A caller's answer to one survey question. ``rating`` is null when the caller did not answer
    (``outcome`` ``no-answer`` or ``hung-up``): no answer is stored as such, never as a rating.
    ``agent``/``queue`` are copied from the call when known at answer time; queries fall back to the
    call's row (``calls.linkedid``)."""

    __tablename__ = "survey_ratings"
    __table_args__ = (
        Index("ix_survey_ratings_linkedid", "linkedid"),
        Index("ix_survey_ratings_answered_at", "answered_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    linkedid: Mapped[str] = mapped_column(String(64))
    question: Mapped[str] = mapped_column(String(64))
    rating: Mapped[int | None] = mapped_column(Integer)
    satisfied: Mapped[bool | None] = mapped_column(Boolean)  # by the YAML's `satisfied` keys; null: unrated
    outcome: Mapped[str] = mapped_column(String(16))  # rated | no-answer | hung-up
    language: Mapped[str | None] = mapped_column(String(8))
    agent: Mapped[str | None] = mapped_column(String(128))
    queue: Mapped[str | None] = mapped_column(String(64))
    answered_at: Mapped[datetime] = mapped_column(TS, server_default=func.now())
