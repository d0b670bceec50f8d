"""Signed commands: a signature covers one workflow, one step, one task id and its content.

Pure code (HMAC), so no server; the attacks run against the real stack in
``tests/workflows/test_trust_boundary.py``.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace

import pytest
from temporalio.api.common.v1 import Payload

from domain.commands import AssessPurpose
from domain.models import Actor
from domain.vocabulary import Role
from infra.signing import HEADER, Command, CommandRefusedError, CommandSigner
from tests.conftest import TEST_KEK

SIGNER = CommandSigner(base64.b64decode(TEST_KEK))
ACTOR = Actor(user_id="u-worker-police", role=Role.AGENCY_WORKER, agency="police")
ASSESS = AssessPurpose(
    purpose_clear=True, identifiable=True, confidential=True, special_category=False
)
COMMAND = Command("update", "request-1-agency-police", "assess_purpose", "task-7", [ACTOR, ASSESS])


def test_the_application_s_own_command_verifies() -> None:
    SIGNER.verify({HEADER: SIGNER.header(COMMAND)}, COMMAND)


@pytest.mark.parametrize(
    "changed",
    [
        replace(COMMAND, workflow_id="request-2-agency-police"),
        replace(COMMAND, update_id="task-8"),
        replace(COMMAND, name="record_decision"),
        replace(COMMAND, kind="start"),
        replace(COMMAND, args=[ACTOR.model_copy(update={"user_id": "u-someone-else"}), ASSESS]),
        replace(COMMAND, args=[ACTOR.model_copy(update={"role": Role.ADVISOR}), ASSESS]),
        replace(COMMAND, args=[ACTOR.model_copy(update={"agency": "csc"}), ASSESS]),
        replace(COMMAND, args=[ACTOR, ASSESS.model_copy(update={"purpose_clear": False})]),
    ],
    ids=["workflow", "update id", "step", "kind", "user", "role", "agency", "command"],
)
def test_a_signature_is_refused_for_any_other_workflow_step_task_or_content(
    changed: Command,
) -> None:
    header = SIGNER.header(COMMAND)
    with pytest.raises(CommandRefusedError, match="does not match"):
        SIGNER.verify({HEADER: header}, changed)


def test_a_missing_malformed_or_foreign_signature_is_refused() -> None:
    with pytest.raises(CommandRefusedError, match="not signed"):
        SIGNER.verify({}, COMMAND)
    with pytest.raises(CommandRefusedError, match="malformed"):
        SIGNER.verify({HEADER: Payload(data=b"not json")}, COMMAND)
    stranger = CommandSigner(secrets.token_bytes(32))
    with pytest.raises(CommandRefusedError, match="does not match"):
        SIGNER.verify({HEADER: stranger.header(COMMAND)}, COMMAND)


def test_a_schedule_s_signature_covers_its_runs_only() -> None:
    action = Command("start", "mashflow-checkpoint-run", "CheckpointWorkflow", "", [])
    header = {HEADER: SIGNER.header(action)}
    run = replace(action, workflow_id="mashflow-checkpoint-run-2026-12-05T03:00:00Z")
    SIGNER.verify(header, run)
    with pytest.raises(CommandRefusedError):
        SIGNER.verify(header, replace(action, workflow_id="mashflow-checkpoint-run-by-hand"))
    with pytest.raises(CommandRefusedError):
        SIGNER.verify(header, replace(run, name="RetentionReviewTaskWorkflow"))


def test_a_signal_s_signature_names_its_id_and_covers_its_content() -> None:
    signal = Command("signal", "request-1-agency-police", "withdrawn", "run-9/1", [ASSESS])
    body = SIGNER.signature(signal)
    assert body["id"] == "run-9/1"
    SIGNER.verify_signature(body, signal)
    for changed in (
        replace(signal, update_id="run-9/2"),
        replace(signal, name="rating_changed"),
        replace(signal, kind="update"),
        replace(signal, args=[ACTOR]),
    ):
        with pytest.raises(CommandRefusedError):
            SIGNER.verify_signature(body, changed)
    for malformed in (None, "mac", {"v": 1, "at": "x"}, {**body, "v": 2}):
        with pytest.raises(CommandRefusedError):
            SIGNER.verify_signature(malformed, signal)


def test_a_previous_kek_s_signatures_verify_while_it_is_configured() -> None:
    old = CommandSigner(base64.b64decode(TEST_KEK))
    new_kek = secrets.token_bytes(32)
    during = CommandSigner(new_kek, base64.b64decode(TEST_KEK))
    after = CommandSigner(new_kek)
    header = {HEADER: old.header(COMMAND)}
    during.verify(header, COMMAND)
    with pytest.raises(CommandRefusedError):
        after.verify(header, COMMAND)
    old_reads_new = {HEADER: during.header(COMMAND)}
    after.verify(old_reads_new, COMMAND)  # signed with the new KEK
