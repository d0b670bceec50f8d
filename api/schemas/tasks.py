"""Completing a task: the bodies live in ``app.tasks`` (the API and the CLI share them)."""

from __future__ import annotations

from app.tasks import (
    Action,
    AssessPurposeBody,
    ConsentNotSoughtBody,
    DetermineLawfulBasisBody,
    GiveAdviceBody,
    InformPlanIn,
    InstrumentIn,
    ItemIn,
    OpenTask,
    RecordConsentBody,
    RecordDecisionBody,
    RecordInformingBody,
    RequestAdviceBody,
    Seal,
    SeekConsentBody,
    SelectInformationBody,
    StepDone,
    TaskAction,
    TaskRef,
)

__all__ = [
    "Action",
    "AssessPurposeBody",
    "ConsentNotSoughtBody",
    "DetermineLawfulBasisBody",
    "GiveAdviceBody",
    "InformPlanIn",
    "InstrumentIn",
    "ItemIn",
    "OpenTask",
    "RecordConsentBody",
    "RecordDecisionBody",
    "RecordInformingBody",
    "RequestAdviceBody",
    "Seal",
    "SeekConsentBody",
    "SelectInformationBody",
    "StepDone",
    "TaskAction",
    "TaskRef",
]
