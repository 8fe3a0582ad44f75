"""Glue between the AMI link and the live model: raw message → typed event → model → subscribers.

:class:`LiveFeed.on_message` is what the composition root passes to
:class:`~callcenter.ami.connection.AmiConnection` as ``on_message``. A malformed event is logged with its
raw headers and dropped; a failing subscriber is logged; neither stops the reader.

:func:`rebuild` is the restart hook: after (re)connecting it asks Asterisk for the live channels and the
queue state (``CoreShowChannels``, ``QueueStatus``) and feeds the list items to the same model, so a
restarted service knows the calls and queues already up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from callcenter.ami import actions
from callcenter.ami.actions import ActionSender
from callcenter.ami.events import AmiEvent, TranslationError, translate
from callcenter.ami.framing import AmiMessage
from callcenter.live.model import Change, LiveModel

__all__ = ["LiveFeed", "rebuild"]

log = logging.getLogger(__name__)


class LiveFeed:
    def __init__(
        self,
        model: LiveModel,
        on_changes: Callable[[list[Change]], None] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.model = model
        self._on_changes = on_changes
        self._clock = clock
        self.applied = 0
        self.dropped = 0
        # Features that react to raw typed events (crisis marks, callback requests) listen here.
        self.listeners: list[Callable[[AmiEvent], None]] = []

    def on_message(self, msg: AmiMessage) -> None:
        try:
            event = translate(msg)
        except TranslationError as exc:
            self.dropped += 1
            log.warning("AMI event dropped: %s; headers %r", exc, exc.headers)
            return
        if event is None:
            return
        changes = self.model.apply(event, received_at=self._clock())
        self.applied += 1
        for listener in self.listeners:
            try:
                listener(event)
            except Exception:
                log.exception("AMI event listener failed on %s", type(event).__name__)
        if changes and self._on_changes is not None:
            try:
                self._on_changes(changes)
            except Exception:
                log.exception("live-model subscriber failed on %d change(s)", len(changes))


async def rebuild(ami: ActionSender, feed: LiveFeed) -> int:
    """Feed CoreShowChannels and QueueStatus list items to the model; the number of items applied."""
    count = 0
    for response in (await actions.core_show_channels(ami), await actions.queue_status(ami)):
        for item in response.events:
            feed.on_message(item)
            count += 1
    return count
