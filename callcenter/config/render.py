"""Render Asterisk's configuration from a :class:`~routing.plan.HotlinePlan`.

:func:`render` is pure: a plan and :class:`RenderOptions` in, ``{file name: text}`` out, byte-for-byte the
same for the same input (everything is sorted, nothing carries a date), so that a diff of the rendered
directory shows exactly what a change of ``hotline.yaml`` does. :func:`render_main` is the
``hotline config render FILE --out DIR`` command.

The dialplan contract is in docs/ARCHITECTURE.md ("The call path"); the rendered dialplan only uses the
applications the simulated PBX interprets (Answer, AGI, Queue, Set, GotoIf, Goto, Gosub/Return, Playback,
Hangup, NoOp, UserEvent, ExecIf), except ``Dial`` in ``[hotline-external]``, which is only entered to put a
caller through to a public hotline.

Secrets never appear in the rendered files: each file that needs one ends with ``#tryinclude`` of a file
kept beside it on the Asterisk server (see docs/CONFIG.md, "Secrets").
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from callcenter.config.loader import ConfigError, load_plan
from routing.plan import (
    ANONYMOUS_VARIANT,
    CALLBACK_OFFER_PROMPT,
    ActionKind,
    HotlinePlan,
    MenuAction,
    QueuePlan,
)
from routing.skills import plan_routing, render_rules

__all__ = ["DEFAULT_AGI_URL", "RENDERED_FILES", "RenderOptions", "render", "render_main", "write_rendered"]

DEFAULT_AGI_URL = "agi://127.0.0.1:4573/ivr"
RENDERED_FILES = (
    "cdr_pgsql.conf",
    "extconfig.conf",
    "extensions.conf",
    "manager.conf",
    "pjsip.conf",
    "queuerules.conf",
    "queues.conf",
    "res_pgsql.conf",
)
INBOUND_CONTEXT = "hotline-inbound"
AGENTS_CONTEXT = "hotline-agents"
EXTERNAL_CONTEXT = "hotline-external"
SURVEY_CONTEXT = "hotline-survey"
PROMPT_SET_SUB = "hotline-prompt-set"
PENALTY_WINDOW_SUB = "hotline-penalty-window"
QUEUE_VOICE_SUB = "hotline-queue-voice"
QUEUE_EXIT_CONTEXT = "hotline-queue-exit"


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Where the rendered configuration runs: what is not the hotline's business but the site's."""

    source: str = "hotline.yaml"  # named in each file's header
    agi_url: str = DEFAULT_AGI_URL
    survey_agi_url: str | None = None  # None: agi_url with the path /survey
    ami_user: str = "hotline"
    ami_bind: str = "127.0.0.1"
    ami_permit: str = "127.0.0.1/255.255.255.255"
    sip_port: int = 5060
    db_host: str = "127.0.0.1"
    db_port: int = 5432
    db_name: str = "hotline"
    db_user: str = "asterisk"


def render(plan: HotlinePlan, options: RenderOptions | None = None) -> dict[str, str]:
    """Every rendered file of ``plan``, by name (see :data:`RENDERED_FILES`)."""
    opts = options or RenderOptions()
    files = {
        "extensions.conf": _extensions(plan, opts),
        "queues.conf": _queues(plan, opts),
        "queuerules.conf": _queuerules(plan, opts),
        "pjsip.conf": _pjsip(plan, opts),
        "manager.conf": _manager(plan, opts),
        "cdr_pgsql.conf": _cdr_pgsql(plan, opts),
        "res_pgsql.conf": _res_pgsql(plan, opts),
        "extconfig.conf": _extconfig(plan, opts),
    }
    return {name: files[name] for name in RENDERED_FILES}


def write_rendered(files: dict[str, str], out: Path) -> list[Path]:
    """Write ``files`` into ``out`` (created if needed); return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in sorted(files.items()):
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def render_main(argv: Sequence[str] | None = None) -> int:
    """``hotline config render FILE --out DIR [--agi-url URL]``: 0 when written, 1 when the file has
    problems (printed as FILE:LINE:COL: message), never a traceback for a bad file."""
    parser = argparse.ArgumentParser(
        prog="hotline config render", description="render Asterisk configuration from a hotline.yaml"
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--out", type=Path, required=True, help="directory to write the .conf files into")
    parser.add_argument(
        "--agi-url",
        default=DEFAULT_AGI_URL,
        help=f"where Asterisk reaches the IVR (default {DEFAULT_AGI_URL})",
    )
    parser.add_argument(
        "--survey-agi-url",
        default=None,
        help="the survey's FastAGI URL (default: AGI URL with the path /survey)",
    )
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        plan = load_plan(args.file)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(f"{args.file}: {len(exc.problems)} problem(s); nothing rendered", file=sys.stderr)
        return 1
    options = RenderOptions(
        source=args.file.as_posix(), agi_url=args.agi_url, survey_agi_url=args.survey_agi_url
    )
    try:
        written = write_rendered(render(plan, options), args.out)
    except OSError as exc:
        print(f"{args.out}: cannot write: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0


# -- helpers -------------------------------------------------------------------------------------------


def _header(opts: RenderOptions, plan: HotlinePlan, what: str) -> list[str]:
    return [
        f"; {what}",
        f"; Generated by `hotline config render` from {opts.source} ({plan.name}, {plan.number}).",
        "; Do not edit: edit the YAML file, check it and render again.",
        "",
    ]


def _text(lines: list[str]) -> str:
    while lines and lines[-1] == "":
        lines.pop()
    return "\n".join(lines) + "\n"


def _survey_agi(opts: RenderOptions) -> str:
    if opts.survey_agi_url:
        return opts.survey_agi_url
    parts = urlsplit(opts.agi_url)
    return urlunsplit((parts.scheme, parts.netloc, "/survey", "", ""))


def _comment(text: str) -> str:
    """Text safe inside a dialplan argument or comment: no ';' (a comment), ',' (an argument separator) or
    parentheses."""
    return "".join(" " if ch in ';,()[]$\\"' else ch for ch in text).strip()


def _prompt_set(plan: HotlinePlan, language: str) -> str:
    lang = plan.language(language)
    return lang.prompt_set if lang is not None else language


# -- extensions.conf ------------------------------------------------------------------------------------


def _extensions(plan: HotlinePlan, opts: RenderOptions) -> str:
    number = plan.number
    lines = _header(opts, plan, "12355 hotline dialplan (extensions.conf)")
    lines += [
        "[general]",
        "static=yes",
        "writeprotect=yes",
        "clearglobalvars=yes",
        "",
        "[globals]",
        f"HOTLINE_AGI={opts.agi_url}",
        f"HOTLINE_SURVEY_AGI={_survey_agi(opts)}",
        f"HOTLINE_FALLBACK_QUEUE={plan.default_queue}",
        f"HOTLINE_FALLBACK_TIMEOUT={_max_wait(plan, plan.default_queue)}",
        f"HOTLINE_DEFAULT_PROMPT_SET={_prompt_set(plan, plan.default_language)}",
        "",
        f"[{INBOUND_CONTEXT}]",
        f"exten => {number},1,NoOp({_comment(plan.name)})",
    ]
    for blocked in sorted(plan.blocked_numbers):
        # Refused before Answer and before the IVR, so they are refused even when the service is down.
        # Caller IDs come with or without the country code depending on the trunk.
        test = " | ".join(f'"${{CALLERID(num)}}" = "{prefix}{blocked}"' for prefix in ("", "+86", "0086"))
        lines.append(f" same => n,GotoIf($[{test}]?blocked,1)")
    lines += [
        " same => n,Answer()",
        " ; app_queue's MixMonitor names the recording by the call's Linkedid (recordings/ finds it by it)",
        " same => n,Set(MONITOR_FILENAME=${CHANNEL(linkedid)})",
        " same => n,Set(HOTLINE_QUEUE=)",
        " same => n,AGI(${HOTLINE_AGI})",
        " ; Asterisk's own record keeps what the IVR decided (cdr_pgsql writes each CDR variable into",
        " ; the cdr column of that name), for calls whose AMI events the service missed (reconcile).",
        " same => n,Set(CDR(hotline_language)=${HOTLINE_LANGUAGE})",
        " same => n,Set(CDR(hotline_menu_path)=${HOTLINE_MENU_PATH})",
        " same => n,Set(CDR(userfield)=${HOTLINE_DISPOSITION})",
        " ; AGISTATUS is SUCCESS even when the service accepted and closed without a word: test what the",
        " ; IVR set. HOTLINE_QUEUE is set last, so a half-finished IVR session falls back as well.",
        ' same => n,GotoIf($["${HOTLINE_DISPOSITION}" != ""]?done,1)',
        ' same => n,GotoIf($["${HOTLINE_QUEUE}" = ""]?fallback,1)',
        ' same => n,GotoIf($["${HOTLINE_ACTION}" = "message"]?message,1)',
        ' same => n,GotoIf($["${HOTLINE_ACTION}" = "callback"]?callback,1)',
        ' same => n,GotoIf($["${HOTLINE_ACTION}" = "transfer"]?transfer,1)',
        " same => n,Set(QUEUE_PRIO=${HOTLINE_PRIORITY})",
        f" same => n,Queue(${{HOTLINE_QUEUE}},{_queue_options(plan)},,,${{HOTLINE_QUEUE_TIMEOUT}})",
        *_after_queue(plan),
        "",
        "exten => fallback,1,NoOp(IVR unreachable: default queue)",
        " same => n,Set(HOTLINE_QUEUE=${HOTLINE_FALLBACK_QUEUE})",
        " same => n,Set(HOTLINE_MENU_PATH=fallback)",
        " same => n,Set(CDR(hotline_menu_path)=fallback)",
        f" same => n,Queue(${{HOTLINE_QUEUE}},{_queue_options(plan)},,,${{HOTLINE_FALLBACK_TIMEOUT}})",
        *_after_queue(plan),
        "",
        "; Back into the queue the IVR chose, e.g. when a public hotline did not answer a transfer.",
        "exten => queue,1,Set(QUEUE_PRIO=${HOTLINE_PRIORITY})",
        f" same => n,Queue(${{HOTLINE_QUEUE}},{_queue_options(plan)},,,${{HOTLINE_QUEUE_TIMEOUT}})",
        *_after_queue(plan),
        "",
        "exten => message,1,NoOp(information message then hang up)",
        f" same => n,Gosub({PROMPT_SET_SUB},s,1)",
        " same => n,Playback(${HOTLINE_PROMPT_SET}/${HOTLINE_ACTION_TARGET})",
        " same => n,Hangup()",
        "",
        "exten => callback,1,NoOp(callback requested in the IVR)",
        " same => n,UserEvent(HotlineCallback,Reason: ivr,Caller: ${CALLERID(num)},"
        "Language: ${HOTLINE_LANGUAGE},MenuPath: ${HOTLINE_MENU_PATH})",
        f" same => n,Gosub({PROMPT_SET_SUB},s,1)",
        ' same => n,ExecIf($["${HOTLINE_ACTION_TARGET}" != ""]?Playback(${HOTLINE_PROMPT_SET}/'
        "${HOTLINE_ACTION_TARGET}))",
        " same => n,Hangup()",
        "",
        "exten => transfer,1,NoOp(transfer to an external hotline)",
        f" same => n,Goto({EXTERNAL_CONTEXT},${{HOTLINE_ACTION_TARGET}},1)",
        "",
        "exten => blocked,1,NoOp(blocked number)",
        " same => n,Set(HOTLINE_DISPOSITION=blocked)",
        " same => n,Set(CDR(userfield)=blocked)",
        " same => n,Hangup(21)",
        "",
        "exten => done,1,Hangup()",
    ]
    for queue in sorted(plan.queues, key=lambda q: q.name):
        lines += ["", *_on_timeout(plan, queue)]

    lines += [
        "",
        f"[{PROMPT_SET_SUB}]",
        "; HOTLINE_PROMPT_SET: the sound directory of the caller's language.",
        "exten => s,1,Set(HOTLINE_PROMPT_SET=${HOTLINE_DEFAULT_PROMPT_SET})",
    ]
    for lang in sorted(plan.languages, key=lambda la: la.code):
        test = f'$["${{HOTLINE_LANGUAGE}}" = "{lang.code}"]'
        lines.append(f" same => n,ExecIf({test}?Set(HOTLINE_PROMPT_SET={lang.prompt_set}))")
    lines.append(" same => n,Return()")

    lines += [
        "",
        f"[{EXTERNAL_CONTEXT}]",
        "; Public hotlines: the IVR's transfer option and agents' transfers (AMI Redirect) come here.",
    ]
    for hotline in sorted(plan.external_hotlines, key=lambda h: h.key):
        lines += [
            f"exten => {hotline.key},1,NoOp({_comment(hotline.name)})",
            f" same => n,Dial({hotline.dial},{hotline.timeout_seconds})",
            # Busy or no answer: a caller (who has a queue) goes back to a person; an agent's own call ends.
            f' same => n,GotoIf($["${{HOTLINE_QUEUE}}" != ""]?{INBOUND_CONTEXT},queue,1)',
            " same => n,Hangup()",
            "",
        ]
    lines += [
        "; An unknown hotline: the caller still reaches a person.",
        f'exten => i,1,GotoIf($["${{HOTLINE_QUEUE}}" != ""]?{INBOUND_CONTEXT},queue,1'
        f":{INBOUND_CONTEXT},fallback,1)",
        "",
        f"[{AGENTS_CONTEXT}]",
        "; What agents' softphones may dial: the public hotlines.",
    ]
    for hotline in sorted(plan.external_hotlines, key=lambda h: h.key):
        lines.append(f"exten => {hotline.key},1,Goto({EXTERNAL_CONTEXT},{hotline.key},1)")
    if plan.survey is not None:
        lines += [
            "",
            f"[{SURVEY_CONTEXT}]",
            "; The post-call survey: Queue() (option c) comes here when the agent hung up first; an agent",
            "; may also put the caller through to it (AMI Redirect to s,1).",
            "exten => s,1,NoOp(post-call survey)",
            " same => n,AGI(${HOTLINE_SURVEY_AGI})",
            " same => n,Hangup()",
        ]
    if any(q.callback_offer_after_seconds for q in plan.queues):
        lines += [
            "",
            f"[{QUEUE_EXIT_CONTEXT}]",
            "; Queues' context=: a waiting caller who presses 1 leaves the queue and is called back.",
            "; Only callers with a number (caller-ID pattern: a digit or +, then more) can: anonymous",
            "; callers stay queued.",
            "exten => 1/_[+0123456789].,1,NoOp(callback offer taken)",
            " same => n,UserEvent(HotlineCallback,Reason: queue-offer,Caller: ${CALLERID(num)},"
            "Queue: ${HOTLINE_QUEUE},Language: ${HOTLINE_LANGUAGE})",
            f" same => n,Gosub({PROMPT_SET_SUB},s,1)",
            " same => n,Playback(${HOTLINE_PROMPT_SET}/callback-booked)",
            " same => n,Hangup()",
        ]
    return _text(_with_penalty_window(plan, _with_queue_voice(plan, lines)))


def _with_queue_voice(plan: HotlinePlan, lines: list[str]) -> list[str]:
    """Before every Queue(): ``CHANNEL(language)``, in which app_queue plays what a waiting caller hears
    (position, wait, the callback offer) — the caller's prompt set, or its ``_anonymous`` variant for a
    caller without a number (routing/plan.py ANONYMOUS_VARIANT)."""
    out: list[str] = []
    for line in lines:
        if line.startswith(" same => n,Queue("):
            out.append(f" same => n,Gosub({QUEUE_VOICE_SUB},s,1)")
        out.append(line)
    anonymous = '$["${HOTLINE_ANONYMOUS}" = "1" | "${CALLERID(num)}" = ""]'
    out += [
        "",
        f"[{QUEUE_VOICE_SUB}]",
        "; The channel's language while queued = the caller's prompt set (the default one when the IVR was",
        "; unreachable). Callers without a number (the IVR sets HOTLINE_ANONYMOUS) get its variant",
        f"; <set>{ANONYMOUS_VARIANT}: Asterisk (main/file.c) looks a sound up there first, then in <set>, so",
        f"; the variant's only file, {CALLBACK_OFFER_PROMPT}, asks them to hold instead of offering a",
        "; callback they cannot have.",
        f"exten => s,1,Gosub({PROMPT_SET_SUB},s,1)",
        " same => n,Set(CHANNEL(language)=${HOTLINE_PROMPT_SET})",
        f" same => n,ExecIf({anonymous}?Set(CHANNEL(language)=${{HOTLINE_PROMPT_SET}}{ANONYMOUS_VARIANT}))",
        " same => n,Return()",
    ]
    return out


def _with_penalty_window(plan: HotlinePlan, lines: list[str]) -> list[str]:
    """Language widening (routing/skills.py): before every Queue(), QUEUE_MAX_PENALTY for the queue in
    HOTLINE_QUEUE (speakers only at first; the queue's rule in queuerules.conf widens it later)."""
    limited = [r for r in plan_routing(plan) if r.initial_max_penalty is not None]
    if not limited:
        return lines
    out: list[str] = []
    for line in lines:
        if line.startswith(" same => n,Queue("):
            out.append(f" same => n,Gosub({PENALTY_WINDOW_SUB},s,1)")
        out.append(line)
    out += [
        "",
        f"[{PENALTY_WINDOW_SUB}]",
        "; QUEUE_MAX_PENALTY of the queue in HOTLINE_QUEUE: callers of a widening language reach speakers",
        "; first; the queue's defaultrule (queuerules.conf) raises the limit after the configured wait.",
        "exten => s,1,Set(QUEUE_MAX_PENALTY=)",
    ]
    for routing in sorted(limited, key=lambda r: r.queue):
        out.append(
            f' same => n,ExecIf($["${{HOTLINE_QUEUE}}" = "{routing.queue}"]?'
            f"Set(QUEUE_MAX_PENALTY={routing.initial_max_penalty}))"
        )
    out.append(" same => n,Return()")
    return out


def _queuerules(plan: HotlinePlan, opts: RenderOptions) -> str:
    lines = _header(opts, plan, "12355 hotline penalty rules (queuerules.conf, app_queue)")
    lines += [
        "; Language widening (languages.<code>.widen_after): after the wait, non-speakers of the queue's",
        "; language (members with a higher penalty) may answer too. See routing/skills.py.",
    ]
    rules = render_rules(sorted(plan_routing(plan), key=lambda r: r.queue))
    if rules:
        lines += ["", *rules.rstrip("\n").split("\n")]
    return _text(lines)


def _max_wait(plan: HotlinePlan, name: str) -> int:
    queue = plan.queue(name)
    return queue.max_wait_seconds if queue is not None else 600


def _queue_options(plan: HotlinePlan) -> str:
    """Queue() options: ``t`` (the agent may transfer); ``c`` too when there is a survey, so that the caller
    goes on in the dialplan (QUEUESTATUS ``CONTINUE``) when the agent hangs up first."""
    return "tc" if plan.survey is not None else "t"


def _after_queue(plan: HotlinePlan) -> list[str]:
    """After Queue() returns: its on_timeout action when the caller waited too long or the queue was full;
    the survey when the agent hung up first (``CONTINUE``); else hang up (the caller left)."""
    test = '$["${QUEUESTATUS}" = "TIMEOUT" | "${QUEUESTATUS}" = "FULL"]'
    survey = []
    if plan.survey is not None:
        survey = [f' same => n,GotoIf($["${{QUEUESTATUS}}" = "CONTINUE"]?{SURVEY_CONTEXT},s,1)']
    return [
        f" same => n,GotoIf({test}?timeout-${{HOTLINE_QUEUE}},1)",
        *survey,
        " same => n,Hangup()",
    ]


def _on_timeout(plan: HotlinePlan, queue: QueuePlan) -> list[str]:
    action: MenuAction | None = queue.on_timeout
    exten = f"exten => timeout-{queue.name},1"
    if action is None:
        return [
            f"{exten},NoOp({queue.name}: waited too long: the service books a callback)",
            " same => n,Hangup()",
        ]
    prompt = f"{_prompt_set(plan, queue.language)}/{action.target}"
    match action.kind:
        case ActionKind.QUEUE:
            return [
                f"{exten},NoOp({queue.name}: overflow to {action.target})",
                f" same => n,Set(HOTLINE_QUEUE={action.target})",
                f" same => n,Set(HOTLINE_QUEUE_TIMEOUT={_max_wait(plan, action.target)})",
                f" same => n,Queue(${{HOTLINE_QUEUE}},{_queue_options(plan)},,,${{HOTLINE_QUEUE_TIMEOUT}})",
                *_after_queue(plan),
            ]
        case ActionKind.MESSAGE:
            return [
                f"{exten},NoOp({queue.name}: waited too long)",
                f" same => n,Playback({prompt})",
                " same => n,Hangup()",
            ]
        case ActionKind.CALLBACK:
            out = [
                f"{exten},NoOp({queue.name}: waited too long: callback)",
                f" same => n,UserEvent(HotlineCallback,Reason: queue-timeout,Caller: ${{CALLERID(num)}},"
                f"Queue: {queue.name})",
            ]
            if action.target:
                out.append(f" same => n,Playback({prompt})")
            return [*out, " same => n,Hangup()"]
        case ActionKind.TRANSFER:
            return [
                f"{exten},NoOp({queue.name}: waited too long: transfer)",
                f" same => n,Goto({EXTERNAL_CONTEXT},{action.target},1)",
            ]
        case _:  # the loader allows no other kind
            return [f"{exten},Hangup()"]


# -- queues.conf -----------------------------------------------------------------------------------------


def _queues(plan: HotlinePlan, opts: RenderOptions) -> str:
    lines = _header(opts, plan, "12355 hotline queues (queues.conf, app_queue)")
    lines += [
        "[general]",
        "; Members are dynamic: the service adds agents with AMI QueueAdd when they log in.",
        "persistentmembers = no",
        "autofill = yes",
        "shared_lastcall = yes",
        "log_membername_as_agent = yes",
    ]
    lines_by_code = {s.code: s.name for s in plan.service_lines}
    langs = {la.code: la.name for la in plan.languages}
    rules = {r.queue: r.rule.name for r in plan_routing(plan) if r.rule is not None}
    for q in sorted(plan.queues, key=lambda q: q.name):
        lines += [
            "",
            f"[{q.name}]",
            f"; {lines_by_code.get(q.service_line, q.service_line)} / {langs.get(q.language, q.language)}; "
            f"callers wait at most {q.max_wait_seconds} s (Queue() timeout set by the IVR)",
            f"strategy = {q.strategy}",
            f"timeout = {q.member_timeout_seconds}",
            f"retry = {q.retry_seconds}",
            f"wrapuptime = {q.wrapup_seconds}",
            f"maxlen = {q.max_len}",
            f"weight = {q.weight}",
            f"joinempty = {'yes' if q.join_empty else 'no'}",
            f"leavewhenempty = {'yes' if q.leave_when_empty else 'no'}",
            "ringinuse = no",
            *_announcements(q),
            "setinterfacevar = yes",
            "setqueuevar = yes",
            "; every answered call is recorded while bridged (MixMonitor, option b) to MONITOR_FILENAME",
            "monitor-format = wav",
        ]
        if q.name in rules:  # language widening: non-speakers may answer after a wait
            lines.append(f"defaultrule = {rules[q.name]}")
    return _text(lines)


def _announcements(q: QueuePlan) -> list[str]:
    """What a waiting caller hears: position and estimated wait every ``announce_frequency`` seconds, and
    the callback offer (a key that leaves the queue to QUEUE_EXIT_CONTEXT) every ``callback_offer_after``.
    Sounds are played in the channel's language (``CHANNEL(language)``, set to the caller's prompt set)."""
    out = [f"announce-frequency = {q.announce_frequency_seconds}"]
    if q.announce_frequency_seconds:
        out += [
            "announce-position = yes",
            "announce-holdtime = yes",
            f"min-announce-frequency = {min(15, q.announce_frequency_seconds)}",
        ]
    if q.callback_offer_after_seconds:
        out += [
            f"periodic-announce = {CALLBACK_OFFER_PROMPT}",
            f"periodic-announce-frequency = {q.callback_offer_after_seconds}",
            f"context = {QUEUE_EXIT_CONTEXT}",
        ]
    return out


# -- pjsip.conf ----------------------------------------------------------------------------------------------


def _pjsip(plan: HotlinePlan, opts: RenderOptions) -> str:
    lines = _header(opts, plan, "agents' softphones (pjsip.conf): SIP over UDP and WebRTC over WSS")
    lines += [
        "[global]",
        "type = global",
        "user_agent = hotline-12355",
        "",
        "[transport-udp]",
        "type = transport",
        "protocol = udp",
        f"bind = 0.0.0.0:{opts.sip_port}",
        "",
        "; WebRTC: browsers connect to Asterisk's HTTP server (http.conf: tlsenable, port 8089) at /ws.",
        "[transport-wss]",
        "type = transport",
        "protocol = wss",
        "bind = 0.0.0.0",
    ]
    for agent in sorted(plan.agents, key=lambda a: a.extension):
        ext = agent.extension
        name = agent.name.replace('"', "")
        lines += [
            "",
            f"; {name}: {', '.join(agent.skills)} ({', '.join(agent.languages)})",
            f"[{ext}]",
            "type = endpoint",
            f"context = {AGENTS_CONTEXT}",
            "disallow = all",
            "allow = opus,g722,ulaw,alaw",
            "; webrtc=yes: DTLS-SRTP, ICE, AVPF, rtcp-mux and bundle, for the browser softphone",
            "webrtc = yes",
            "dtls_auto_generate_cert = yes",
            f'callerid = "{name}" <{ext}>',
            f"auth = {ext}-auth",
            f"aors = {ext}",
            "",
            f"[{ext}]",
            "type = aor",
            "max_contacts = 1",
            "remove_existing = yes",
            "qualify_frequency = 30",
            "",
            f"[{ext}-auth]",
            "type = auth",
            "auth_type = userpass",
            f"username = {ext}",
        ]
    lines += [
        "",
        "; Agents' passwords ([EXT-auth](+) password = ...) and the pstn trunk the public hotlines are",
        "; dialled through live beside this file on the server, never in git (docs/CONFIG.md).",
        "#tryinclude pjsip_secrets.conf",
        "#tryinclude pjsip_trunk.conf",
    ]
    return _text(lines)


# -- manager.conf --------------------------------------------------------------------------------------------


def _manager(plan: HotlinePlan, opts: RenderOptions) -> str:
    lines = _header(opts, plan, "AMI (manager.conf): the service's account, with only the rights it uses")
    lines += [
        "[general]",
        "enabled = yes",
        "port = 5038",
        f"bindaddr = {opts.ami_bind}",
        "; the live model takes call times from the events' Timestamp header",
        "timestampevents = yes",
        "",
        f"[{opts.ami_user}]",
        "deny = 0.0.0.0/0.0.0.0",
        f"permit = {opts.ami_permit}",
        "; read:  agent (queue and member events), call (channels, bridges, dials), cdr, dialplan (VarSet:",
        ";        the IVR's HOTLINE_* variables, Newexten), dtmf, system (FullyBooted), user (UserEvent:",
        ";        callback requests)",
        "read = agent,call,cdr,dialplan,dtmf,system,user",
        "; write: agent (QueueAdd/QueueRemove/QueuePause), call (Redirect, Hangup, Setvar),",
        ";        command (`dialplan reload`, `module reload app_queue.so` when a new hotline.yaml is",
        ";        applied), originate (callbacks), reporting (CoreShowChannels)",
        "write = agent,call,command,originate,reporting",
        "displayconnects = no",
        "",
        f"; The secret ([{opts.ami_user}](+) secret = ...) lives beside this file, never in git.",
        "#tryinclude manager_secrets.conf",
    ]
    return _text(lines)


# -- CDRs and queue_log to PostgreSQL ----------------------------------------------------------------------


def _cdr_pgsql(plan: HotlinePlan, opts: RenderOptions) -> str:
    lines = _header(opts, plan, "Asterisk's own CDRs into PostgreSQL (cdr_pgsql.conf)")
    lines += [
        "[global]",
        f"hostname = {opts.db_host}",
        f"port = {opts.db_port}",
        f"dbname = {opts.db_name}",
        f"user = {opts.db_user}",
        "table = cdr",
        "encoding = UTF8",
        "timezone = UTC",
        "",
        "; password ([global](+) password = ...) lives beside this file, never in git.",
        "#tryinclude cdr_pgsql_secrets.conf",
    ]
    return _text(lines)


def _res_pgsql(plan: HotlinePlan, opts: RenderOptions) -> str:
    lines = _header(opts, plan, "PostgreSQL realtime driver (res_pgsql.conf), used for queue_log")
    lines += [
        "[general]",
        f"dbhost = {opts.db_host}",
        f"dbport = {opts.db_port}",
        f"dbname = {opts.db_name}",
        f"dbuser = {opts.db_user}",
        "requirements = warn",
        "",
        "; dbpass ([general](+) dbpass = ...) lives beside this file, never in git.",
        "#tryinclude res_pgsql_secrets.conf",
    ]
    return _text(lines)


def _extconfig(plan: HotlinePlan, opts: RenderOptions) -> str:
    lines = _header(opts, plan, "realtime mappings (extconfig.conf)")
    lines += [
        "[settings]",
        "; app_queue writes queue_log rows into the queue_log table of res_pgsql's [general] database",
        "queue_log => pgsql,general,queue_log",
    ]
    return _text(lines)
