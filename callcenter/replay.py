"""Replay an AMI capture through the same framer, translator and live model as the live service.

Formats:

- ``raw``: the bytes a client receives (optional ``Asterisk Call Manager/x.y`` banner, ``Key: Value`` lines,
  a blank line after each message; CRLF or bare LF). ``Response:`` messages are skipped.
- ``json``: a JSON list of header objects (``{"Event": "Newchannel", ...}``), e.g. the cacofonisk traces.

One dict per finished call (in the order calls end), then the calls still up at the end of the file with
``"disposition": null`` and ``"incomplete": true``. A malformed frame or event is reported on stderr as
``FILE:LINE: message`` (for JSON, LINE is the 1-based index of the item in the list) and replay goes on.

``hotline ami replay FILE [--format raw|json]`` calls :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Literal, TextIO

from callcenter.ami.events import TranslationError, translate
from callcenter.ami.framing import AmiFramer, AmiMessage
from callcenter.live.model import CallEnded, LiveModel
from callcenter.records import CallRecord

__all__ = ["Format", "iter_replay", "main", "record_to_dict", "replay"]

Format = Literal["raw", "json"]
Report = Callable[[str], None]
_CHUNK = 1 << 16


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def record_to_dict(record: CallRecord, *, incomplete: bool = False) -> dict[str, object]:
    return {
        "linkedid": record.linkedid,
        "caller_number": record.caller_number,
        "dialled_number": record.dialled_number,
        "queue": record.queue,
        "agent": record.agent,
        "disposition": None if record.disposition is None else record.disposition.value,
        "wait_seconds": record.wait_seconds,
        "talk_seconds": record.talk_seconds,
        "menu_path": record.menu_path,
        "language": record.language,
        "priority": record.priority,
        "hangup_cause": record.hangup_cause,
        "arrived_at": _iso(record.arrived_at),
        "answered_at": _iso(record.answered_at),
        "ended_at": _iso(record.ended_at),
        "incomplete": incomplete,
    }


def _raw_messages(path: Path, report: Report) -> Iterator[AmiMessage]:
    framer = AmiFramer(count_lines=True)
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            yield from _checked(framer.feed(chunk), path, report)
        yield from _checked(framer.flush(), path, report)


def _checked(messages: list[AmiMessage], path: Path, report: Report) -> Iterator[AmiMessage]:
    for msg in messages:
        for bad in msg.errors:
            report(f"{path}:{msg.line}: line without ':' ignored: {bad[:120]!r}")
        yield msg


def _json_messages(path: Path, report: Report) -> Iterator[AmiMessage]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        report(f"{path}:1: cannot read JSON capture: {exc}")
        return
    if not isinstance(data, list):
        report(f"{path}:1: a JSON capture is a list of header objects")
        return
    for index, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            report(f"{path}:{index}: not a header object: {str(item)[:120]!r}")
            continue
        pairs: list[tuple[str, str]] = []
        for key, value in item.items():
            if key == "content":  # panoramisk's body field in recorded traces
                continue
            if isinstance(value, list):
                pairs.extend((str(key), str(v)) for v in value)
            elif value is None:
                pairs.append((str(key), ""))
            else:
                pairs.append((str(key), str(value)))
        yield AmiMessage(pairs, line=index)


def iter_replay(path: Path, fmt: Format, *, report: Report | None = None) -> Iterator[dict[str, object]]:
    """Yield one dict per finished call as the capture is read, then the incomplete ones."""
    if report is None:

        def report(line: str) -> None:
            print(line, file=sys.stderr)

    messages = _raw_messages(path, report) if fmt == "raw" else _json_messages(path, report)
    model = LiveModel()
    for msg in messages:
        if not msg.is_event:
            continue
        try:
            event = translate(msg)
        except TranslationError as exc:
            report(f"{path}:{msg.line}: {exc} — event dropped")
            continue
        if event is None:
            continue
        for change in model.apply(event):
            if isinstance(change, CallEnded):
                yield record_to_dict(change.record)
    for record in model.calls():
        yield record_to_dict(record, incomplete=True)


def replay(path: Path, fmt: Format, *, report: Report | None = None) -> list[dict[str, object]]:
    return list(iter_replay(path, fmt, report=report))


def main(argv: list[str] | None = None, *, stdout: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hotline ami replay", description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--format", choices=("raw", "json"), default=None, help="default: by file suffix")
    args = parser.parse_args(argv)
    path: Path = args.file
    fmt: Format = args.format or ("json" if path.suffix.lower() == ".json" else "raw")
    out = stdout if stdout is not None else sys.stdout
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    for row in iter_replay(path, fmt):
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
