"""Every table of the service. Import ``metadata`` from here (Alembic, tests) to get all of them: each
feature keeps its models in its own module and adds one import line below (imported for the side effect
of registering its tables on ``Base.metadata``)."""

from __future__ import annotations

import callcenter.blocks.models  # caller_blocks, caller_screening_log, caller_arrivals, voice_messages (9)
import callcenter.callbacks.models  # callback_tasks, callback_attempts (issue 4)
import callcenter.config.versions  # config_versions (issue 3)
import callcenter.crisis.models  # call_risk (issue 4)
import callcenter.occupancy.models  # agent_state_intervals (issue 6)
import callcenter.overflow.models  # overflow_decisions (issue 4)
import callcenter.reconcile.models  # cdr, queue_log (issue 8)
import callcenter.survey.models  # survey_ratings (issue 9)
import callcenter.transfers.models  # call_transfers (issue 4)
import callcenter.workorders.models  # noqa: F401  org_units, work_orders, work_order_events (issue 6)
import recordings.models  # noqa: F401  recordings, recording_access_log (issue 7)
from callcenter.db.models import Base

metadata = Base.metadata
