"""Every question flow, by the name in its URL (``/tasks/{task_id}/{name}/...``): the engine
is :mod:`api.question_flows`, the routes :mod:`api.routes.question_pages`. A new flow is a
module here, added to ``FLOWS``, with its template ``api/templates/flows/<name>.html``."""

from __future__ import annotations

from collections.abc import Mapping

from api.flows.advice import ADVICE
from api.flows.consent import CONSENT_ANSWER, NOT_SEEKING, SEEK_CONSENT
from api.flows.decision import DECISION
from api.flows.purpose import PURPOSE
from api.question_flows import Flow

FLOWS: Mapping[str, Flow] = {
    f.name: f for f in (DECISION, PURPOSE, SEEK_CONSENT, NOT_SEEKING, CONSENT_ANSWER, ADVICE)
}


def flows_for(kind: str) -> list[Flow]:
    """The flows asked on a task of this kind."""
    return [f for f in FLOWS.values() if kind in f.kinds]
