"""A task's id: which request, which agency's decision, which step, at which version.

``{request_id}:{agency}:{kind}:{version}``, ``version`` being the decision
stream's version when the task opened. The inbox lists it, the API and the CLI
take it, and a step's update id is built on it, so it is made and read here only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from uuid import UUID

from domain.errors import ValidationFailed

PATTERN = r"^[0-9a-fA-F-]{36}:[a-z][a-z0-9_]{1,39}:[a-z_]{1,40}:\d{1,9}$"
MAX_LENGTH = 200
_NOT_A_TASK = "not a task id from the inbox"


@dataclass(frozen=True, slots=True)
class TaskId:
    request_id: UUID
    agency: str
    """The holding agency whose decision the task belongs to."""
    kind: str
    version: int

    def __str__(self) -> str:
        return f"{self.request_id}:{self.agency}:{self.kind}:{self.version}"

    @classmethod
    def parse(cls, text: str) -> TaskId:
        """The id as the inbox lists it; anything else is :class:`ValidationFailed`."""
        if len(text) > MAX_LENGTH or re.fullmatch(PATTERN, text) is None:
            raise ValidationFailed("task_id", _NOT_A_TASK)
        request_id, agency, kind, version = text.split(":")
        try:
            return cls(UUID(request_id), agency, kind, int(version))
        except ValueError:
            raise ValidationFailed("task_id", _NOT_A_TASK) from None
