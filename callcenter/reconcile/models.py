"""Asterisk's own records, in the standard layout its PostgreSQL back ends write.

``cdr``: the columns of Asterisk's ``contrib/ast-db-manage`` CDR table (cdr_pgsql fills the columns it
finds by name). ``queue_log``: the realtime queue_log table (``extconfig.conf``:
``queue_log => pgsql,general,queue_log``) with ``data1`` … ``data5``. The service only reads them
(:mod:`callcenter.reconcile.reconciler`); Asterisk (or the simulated PBX, ``pbxsim/cdr_writer.py``)
writes them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from callcenter.db.models import Base

TS = DateTime(timezone=True)


class Cdr(Base):
    __tablename__ = "cdr"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    accountcode: Mapped[str | None] = mapped_column(String(80))
    src: Mapped[str | None] = mapped_column(String(80))
    dst: Mapped[str | None] = mapped_column(String(80))
    dcontext: Mapped[str | None] = mapped_column(String(80))
    clid: Mapped[str | None] = mapped_column(String(80))
    channel: Mapped[str | None] = mapped_column(String(80))
    dstchannel: Mapped[str | None] = mapped_column(String(80))
    lastapp: Mapped[str | None] = mapped_column(String(80))
    lastdata: Mapped[str | None] = mapped_column(String(80))
    start: Mapped[datetime | None] = mapped_column(TS)
    answer: Mapped[datetime | None] = mapped_column(TS)
    end: Mapped[datetime | None] = mapped_column(TS)
    duration: Mapped[int | None] = mapped_column(Integer)
    billsec: Mapped[int | None] = mapped_column(Integer)
    disposition: Mapped[str | None] = mapped_column(String(45))
    amaflags: Mapped[str | None] = mapped_column(String(45))
    userfield: Mapped[str | None] = mapped_column(String(256))
    uniqueid: Mapped[str | None] = mapped_column(String(150))
    linkedid: Mapped[str | None] = mapped_column(String(150))
    peeraccount: Mapped[str | None] = mapped_column(String(80))
    sequence: Mapped[int | None] = mapped_column(Integer)
    # ours: the rendered dialplan sets CDR(hotline_language) / CDR(hotline_menu_path) after the IVR, and
    # cdr_pgsql fills every column whose name is a CDR variable, so calls the AMI link missed keep them
    hotline_language: Mapped[str | None] = mapped_column(String(16))
    hotline_menu_path: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_cdr_linkedid", "linkedid"),
        Index("ix_cdr_end", "end"),
    )


class QueueLog(Base):
    __tablename__ = "queue_log"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    time: Mapped[datetime | None] = mapped_column(TS)
    callid: Mapped[str | None] = mapped_column(String(80))
    queuename: Mapped[str | None] = mapped_column(String(256))
    agent: Mapped[str | None] = mapped_column(String(80))
    event: Mapped[str | None] = mapped_column(String(32))
    data1: Mapped[str | None] = mapped_column(String(100))
    data2: Mapped[str | None] = mapped_column(String(100))
    data3: Mapped[str | None] = mapped_column(String(100))
    data4: Mapped[str | None] = mapped_column(String(100))
    data5: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_queue_log_callid", "callid"),)
