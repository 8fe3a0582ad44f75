"""Every table of the service. Import ``metadata`` from here (Alembic, tests) to get all of them: each
feature keeps its models in its own module and adds one import line below."""

from __future__ import annotations

from callcenter.db.models import Base

# Feature model modules (one line each; imported for their side effect of registering tables):
import callcenter.config.versions  # noqa: F401  config_versions (issue 3)
import callcenter.workorders.models  # noqa: F401  org_units, work_orders, work_order_events (issue 6)
import callcenter.reconcile.models  # noqa: F401  cdr, queue_log (issue 8)
import callcenter.overflow.models  # noqa: F401  overflow_decisions (issue 4)
import callcenter.callbacks.models  # noqa: F401  callback_tasks, callback_attempts (issue 4)
import callcenter.crisis.models  # noqa: F401  call_risk (issue 4)
import callcenter.transfers.models  # noqa: F401  call_transfers (issue 4)
import recordings.models  # noqa: F401  recordings, recording_access_log (issue 7)
import callcenter.survey.models  # noqa: F401  survey_ratings (issue 9)
import callcenter.blocks.models  # noqa: F401  caller_blocks, caller_screening_log, caller_arrivals, voice_messages (issue 9)
import callcenter.occupancy.models  # noqa: F401  agent_state_intervals (issue 6, occupancy)

metadata = Base.metadata
