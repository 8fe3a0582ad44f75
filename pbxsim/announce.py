"""What app_queue plays to a waiting caller, and the exit key (queues.conf ``context=``).

Asterisk semantics (app_queue.c ``say_position``, ``say_periodic_announcement``, ``valid_exit``):

- ``announce-frequency = N`` (0: never): position (``queue-youarenext``, or ``queue-thereare`` N
  ``queue-callswaiting``) and, with ``announce-holdtime``, the estimated wait (``queue-holdtime`` M
  ``queue-minutes``, from the queue's rolling average hold time) — first right after joining (``last_pos``
  starts at 0), then every N seconds, never more often than ``min-announce-frequency``.
- ``periodic-announce = a,b`` with ``periodic-announce-frequency = P``: the next file every P seconds,
  counted from joining.
- Sounds are looked up in the channel's language (``CHANNEL(language)``) as Asterisk does (a
  ``LANG_variant`` directory first, then ``LANG``: pbxsim/sounds.py): recorded as ``LANG/sound``.
- ``context = CTX``: a key pressed while waiting that is an extension of CTX (its caller-ID pattern, if
  any, matching the caller's number) takes the caller out of the queue to ``CTX,key,1`` (QueueCallerLeave,
  no abandon; queue_log EXITWITHKEY). Other keys are dropped.

The simulator plays no audio: each announcement is appended to ``Channel.heard`` as
``(loop time, "sound&sound&...")`` so that tests check what was said and when.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pbxsim.channel import Channel
from pbxsim.dialplan import Dialplan, matches
from pbxsim.sounds import Sounds

__all__ = ["AnnounceConfig", "WaitAnnouncer", "exit_key", "parse_announce_option"]


@dataclass
class AnnounceConfig:
    frequency: float = 0.0
    min_frequency: float = 15.0
    position: bool = True
    holdtime: bool = False
    periodic: list[str] = field(default_factory=list)
    periodic_frequency: float = 0.0
    context: str = ""


def _true(value: str) -> bool:
    return value.strip().lower() in ("yes", "true", "y", "t", "1", "on")


def _seconds(value: str) -> float:
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


def parse_announce_option(cfg: AnnounceConfig, key: str, value: str) -> bool:
    """Apply one queues.conf line; False when ``key`` is not an announcement option."""
    if key == "announce-frequency":
        cfg.frequency = _seconds(value)
    elif key == "min-announce-frequency":
        cfg.min_frequency = _seconds(value)
    elif key == "announce-position":
        cfg.position = _true(value)
    elif key == "announce-holdtime":
        cfg.holdtime = _true(value) or value.strip().lower() == "once"
    elif key == "periodic-announce":
        cfg.periodic = [v.strip() for v in value.split(",") if v.strip()]
    elif key == "periodic-announce-frequency":
        cfg.periodic_frequency = _seconds(value)
    elif key == "context":
        cfg.context = value.strip()
    else:
        return False
    return True


class WaitAnnouncer:
    """One waiting caller's announcements."""

    def __init__(self, cfg: AnnounceConfig, joined: float) -> None:
        self.cfg = cfg
        self.last_pos: float | None = None  # None: never announced (due at once)
        self.last_periodic = joined
        self.periodic_index = 0

    def _pos_due(self, now: float) -> float | None:
        if not self.cfg.frequency:
            return None
        if self.last_pos is None:
            return now
        return self.last_pos + max(self.cfg.frequency, self.cfg.min_frequency)

    def _periodic_due(self) -> float | None:
        if not self.cfg.periodic or not self.cfg.periodic_frequency:
            return None
        return self.last_periodic + self.cfg.periodic_frequency

    def next_in(self, now: float) -> float | None:
        """Seconds until the next announcement (0: now), None when none will come."""
        dues = [d for d in (self._pos_due(now), self._periodic_due()) if d is not None]
        return max(0.0, min(dues) - now) if dues else None

    def announce(self, channel: Channel, position: int, holdtime: int, now: float, sounds: Sounds) -> None:
        """Play what is due at ``now``."""
        lang = channel.language

        def sound(name: str) -> str:
            return sounds.lookup(lang, name)

        pos_due = self._pos_due(now)
        if pos_due is not None and now >= pos_due:
            said: list[str] = []
            if self.cfg.position:
                if position == 1:
                    said.append(sound("queue-youarenext"))
                else:
                    said += [sound("queue-thereare"), f"digits:{position}", sound("queue-callswaiting")]
            if self.cfg.holdtime and holdtime > 0:
                minutes = max(1, round(holdtime / 60))
                said += [sound("queue-holdtime"), f"digits:{minutes}", sound("queue-minutes")]
            if said:
                said.append(sound("queue-thankyou"))
                channel.heard.append((now, "&".join(said)))
            self.last_pos = now
        periodic_due = self._periodic_due()
        if periodic_due is not None and now >= periodic_due:
            name = self.cfg.periodic[self.periodic_index % len(self.cfg.periodic)]
            self.periodic_index += 1
            channel.heard.append((now, sound(name)))
            self.last_periodic = now


def exit_key(dialplan: Dialplan, context: str, channel: Channel) -> str | None:
    """Read the keys the caller pressed; the first that is a valid exit (see the module doc) sends the
    caller there (``request_redirect``) and is returned. Other keys are dropped."""
    while channel.digits:
        digit = channel.digits.popleft()
        ctx = dialplan.contexts.get(context)
        ext = ctx.extensions.get(digit) if ctx is not None else None
        if ext is None:
            continue
        if ext.cid is not None and not matches(ext.cid, channel.caller_num or ""):
            continue
        channel.request_redirect(context, digit, 1)
        return digit
    return None
