"""Agents at their desks: logging in puts the agent's endpoint into every queue their skills and languages
serve (AMI QueueAdd), logging out takes it out again. The agent state machine and the panel build on this."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from callcenter.ami.actions import AmiActions
from callcenter.ami.connection import AmiActionError
from routing.plan import AgentPlan, HotlinePlan
from routing.skills import memberships_of, plan_routing

log = logging.getLogger(__name__)


class UnknownAgentError(LookupError):
    def __init__(self, extension: str) -> None:
        super().__init__(f"no agent with extension {extension!r} in the hotline plan")
        self.extension = extension


@dataclass(frozen=True, slots=True)
class LoginResult:
    extension: str
    queues: tuple[str, ...]


class AgentDesk:
    def __init__(self, actions: AmiActions, plan: Callable[[], HotlinePlan]) -> None:
        self._actions = actions
        self._plan = plan

    def _agent(self, extension: str) -> AgentPlan:
        agent = next((a for a in self._plan().agents if a.extension == extension), None)
        if agent is None:
            raise UnknownAgentError(extension)
        return agent

    async def log_in(self, extension: str) -> LoginResult:
        """Add the agent to each of their queues; being there already is not an error."""
        agent = self._agent(extension)
        # Skills and languages decide the queues and the penalty in each (routing/skills.py); a language
        # that widens makes non-speakers members too, with a penalty the queue's rule reaches later.
        members = memberships_of(extension, plan_routing(self._plan()))
        queues = tuple(m.queue for m in members)
        for member in members:
            try:
                await self._actions.queue_add(
                    member.queue,
                    agent.interface,
                    member_name=agent.extension,
                    penalty=member.penalty,
                    state_interface=agent.interface,
                )
            except AmiActionError as exc:
                if "Already there" not in str(exc):
                    raise
        log.info("agent %s logged in to %s", extension, ", ".join(queues))
        return LoginResult(extension, queues)

    async def log_out(self, extension: str) -> LoginResult:
        agent = self._agent(extension)
        plan = self._plan()
        served = [m.queue for m in memberships_of(extension, plan_routing(plan))]
        queues = tuple(dict.fromkeys([*served, *(q.name for q in plan.queues_for_agent(agent))]))
        for queue in queues:
            try:
                await self._actions.queue_remove(queue, agent.interface)
            except AmiActionError as exc:
                if "Not there" not in str(exc):
                    raise
        log.info("agent %s logged out", extension)
        return LoginResult(extension, queues)
