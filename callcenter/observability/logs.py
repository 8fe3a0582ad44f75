"""Structured logs: one JSON object per line, caller numbers masked.

``install_json_logging()`` (``hotline serve --log-format json``, or ``HOTLINE_LOG_FORMAT=json``) puts
:class:`JsonFormatter` on the root handler. Anything that looks like a phone number (7+ digits, an optional
``+``) in the message or in the exception text is masked the way the pages mask numbers
(``callcenter.auth.roles.mask_number``: 138****5678), so a log shipped off the box never carries a caller's
number.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from callcenter.auth.roles import mask_number

_NUMBER = re.compile(r"(?<![\w.])\+?\d{7,}(?![\w.])")
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def mask_numbers(text: str) -> str:
    return _NUMBER.sub(lambda m: mask_number(m.group(0)) or "", text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": mask_numbers(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = mask_numbers(value) if isinstance(value, str) else value
        if record.exc_info:
            out["exc"] = mask_numbers(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def install_json_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
