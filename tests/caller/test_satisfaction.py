"""Satisfaction figures against a hand-computed fixture: the report function and the wallboard endpoint."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import httpx
import pytest

from callcenter.app import Hotline
from callcenter.db.models import Call
from callcenter.survey.models import SurveyRating
from callcenter.survey.store import satisfaction_by
from tests.web.conftest import app, client, hotline, logged_in  # noqa: F401  (fixtures)

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 11, 20)

# linkedid: agent, queue, rating (None: not rated), outcome, local time of the answer
FIXTURE = {
    "c1": ("1001", "zh-psychology", 5, "rated", datetime(2026, 11, 20, 9, 0, tzinfo=SHANGHAI)),
    "c2": ("1001", "zh-psychology", 3, "rated", datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)),
    "c3": ("1002", "zh-legal", 4, "rated", datetime(2026, 11, 20, 11, 0, tzinfo=SHANGHAI)),
    "c4": ("1002", "zh-legal", None, "no-answer", datetime(2026, 11, 20, 12, 0, tzinfo=SHANGHAI)),
    "c5": ("1001", "zh-legal", None, "hung-up", datetime(2026, 11, 20, 23, 30, tzinfo=SHANGHAI)),
    # the next local day (still 2026-11-20 in UTC): not counted
    "c6": ("1001", "zh-psychology", 1, "rated", datetime(2026, 11, 21, 0, 30, tzinfo=SHANGHAI)),
}
# By hand (satisfied = keys 4 and 5, hotline.yaml):
#   all:        asked 5, rated 3 (c1 c2 c3), satisfied 2 (c1 c3), unanswered 2 → 2/3
#   agent 1001: c1 c2 c5 → rated 2, satisfied 1 → 1/2;   agent 1002: c3 c4 → rated 1, satisfied 1 → 1
#   psychology: c1 c2 → 1/2;   legal: c3 c4 c5 → rated 1, satisfied 1 → 1


@pytest.fixture
async def rated(hotline: Hotline) -> Hotline:  # noqa: F811
    assert hotline.db is not None and hotline.plan is not None and hotline.plan.survey is not None
    survey = hotline.plan.survey
    async with hotline.db.sessions() as session, session.begin():
        for linkedid, (agent, queue, rating, outcome, at) in FIXTURE.items():
            session.add(Call(linkedid=linkedid, uniqueid=linkedid, agent=agent, queue=queue))
            session.add(
                SurveyRating(
                    linkedid=linkedid,
                    question="satisfaction",
                    rating=rating,
                    satisfied=None if rating is None else survey.is_satisfied(rating),
                    outcome=outcome,
                    language="zh",
                    agent=None,  # taken from the call
                    queue=None,
                    answered_at=at,
                )
            )
    return hotline


async def test_satisfaction_by_matches_the_hand_computed_figures(rated: Hotline) -> None:
    assert rated.db is not None
    sessions = rated.db.sessions
    [overall] = await satisfaction_by(sessions, DAY, "all")
    assert (overall.asked, overall.rated, overall.satisfied, overall.unanswered) == (5, 3, 2, 2)
    assert overall.rate == pytest.approx(2 / 3)
    by_agent = {r.key: (r.rated, r.satisfied, r.rate) for r in await satisfaction_by(sessions, DAY, "agent")}
    assert by_agent == {"1001": (2, 1, 0.5), "1002": (1, 1, 1.0)}
    by_line = {
        r.key: (r.asked, r.rated, r.satisfied) for r in await satisfaction_by(sessions, DAY, "service_line")
    }
    assert by_line == {"psychology": (2, 2, 1), "legal": (3, 1, 1)}
    next_day = await satisfaction_by(sessions, date(2026, 11, 21), "all")
    assert [(r.asked, r.rated, r.satisfied) for r in next_day] == [(1, 1, 0)]
    assert await satisfaction_by(sessions, date(2026, 11, 19), "all") == []
    with pytest.raises(ValueError):
        await satisfaction_by(sessions, DAY, "weather")


async def test_the_wallboard_endpoint_shows_the_same_figures(
    rated: Hotline,
    client: httpx.AsyncClient,  # noqa: F811
) -> None:
    assert (await client.get("/api/satisfaction")).status_code == 401
    await logged_in(client, "sup")
    body = (await client.get("/api/satisfaction", params={"day": "2026-11-20"})).json()
    assert body["overall"]["rate"] == pytest.approx(2 / 3)
    assert [(r["key"], r["rate"]) for r in body["by_agent"]] == [("1001", 0.5), ("1002", 1.0)]
    assert [(r["key"], r["rated"]) for r in body["by_service_line"]] == [("legal", 1), ("psychology", 2)]
    grouped = (await client.get("/api/satisfaction/by/queue", params={"day": "2026-11-20"})).json()
    assert [(r["key"], r["asked"]) for r in grouped] == [("zh-legal", 3), ("zh-psychology", 2)]
    ratings = (await client.get("/api/satisfaction/agents/1001/ratings")).json()
    assert sorted(r["linkedid"] for r in ratings) == ["c1", "c2", "c5", "c6"]


async def test_agents_see_their_own_ratings_only_when_the_yaml_allows(
    rated: Hotline,
    client: httpx.AsyncClient,  # noqa: F811
) -> None:
    await logged_in(client, "a1001")
    assert (await client.get("/api/satisfaction")).status_code == 403
    # hotline.yaml: agents_see_own: no
    assert (await client.get("/api/satisfaction/agents/1001/ratings")).status_code == 403
    assert rated.plan is not None and rated.plan.survey is not None
    rated.plan = replace(rated.plan, survey=replace(rated.plan.survey, agents_see_own=True))
    own = await client.get("/api/satisfaction/agents/1001/ratings")
    assert own.status_code == 200 and len(own.json()) == 4
    assert (await client.get("/api/satisfaction/agents/1002/ratings")).status_code == 403
