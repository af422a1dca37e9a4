from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from fulfillment.workflow import (
    StatusUpdate,
    WorkflowStatus,
    has_workflow_marker,
    metadata_for,
    should_apply,
)

from .helpers import ORDER_ID, status_update

T0 = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def stored(status: WorkflowStatus | str, at: datetime | None = T0, **extra: object) -> dict[str, object]:
    metadata: dict[str, object] = {"workflow_status": str(status), **extra}
    if at is not None:
        metadata["last_updated"] = at.isoformat()
    return metadata


def test_ranks_order_the_happy_path_and_failures_are_terminal() -> None:
    happy = [WorkflowStatus.STARTED, WorkflowStatus.PAYMENT_VERIFIED, WorkflowStatus.INVENTORY_RESERVED]
    assert [s.rank for s in happy] == sorted(s.rank for s in happy)
    assert all(not s.terminal for s in happy)
    terminal = {s for s in WorkflowStatus if s.terminal}
    assert terminal == {"completed", "payment_failed", "out_of_stock", "failed"}
    assert all(s.rank > WorkflowStatus.INVENTORY_RESERVED.rank for s in terminal)


def test_first_update_applies_to_an_order_without_status() -> None:
    assert should_apply({"other_key": "x"}, status_update(WorkflowStatus.STARTED))


def test_forward_moves_apply() -> None:
    current = stored(WorkflowStatus.STARTED)
    assert should_apply(
        current, status_update(WorkflowStatus.PAYMENT_VERIFIED, occurred_at=T0 + timedelta(1))
    )


def test_backward_move_is_refused_even_when_newer() -> None:
    current = stored(WorkflowStatus.INVENTORY_RESERVED)
    late = status_update(WorkflowStatus.PAYMENT_VERIFIED, occurred_at=T0 + timedelta(hours=1))
    assert not should_apply(current, late)


@pytest.mark.parametrize("final", [s for s in WorkflowStatus if s.terminal])
def test_terminal_states_are_final(final: WorkflowStatus) -> None:
    for later in WorkflowStatus:
        assert not should_apply(stored(final), status_update(later, occurred_at=T0 + timedelta(days=1)))


def test_same_rank_older_than_stored_is_stale() -> None:
    current = stored(WorkflowStatus.PAYMENT_VERIFIED)
    assert not should_apply(
        current, status_update(WorkflowStatus.PAYMENT_VERIFIED, occurred_at=T0 - timedelta(seconds=1))
    )
    assert should_apply(current, status_update(WorkflowStatus.PAYMENT_VERIFIED, occurred_at=T0))


def test_forward_move_that_happened_before_the_stored_one_is_stale() -> None:
    current = stored(WorkflowStatus.STARTED)
    assert not should_apply(current, status_update(WorkflowStatus.COMPLETED, occurred_at=T0 - timedelta(1)))


def test_unknown_stored_status_is_overwritten() -> None:
    assert should_apply(stored("something-else"), status_update(WorkflowStatus.STARTED))


def test_unparseable_last_updated_does_not_block() -> None:
    current = stored(WorkflowStatus.STARTED, at=None, last_updated="yesterday")
    assert should_apply(current, status_update(WorkflowStatus.PAYMENT_VERIFIED, occurred_at=T0))


def test_metadata_for_writes_only_the_workflow_keys() -> None:
    update = status_update(WorkflowStatus.COMPLETED, step="send-notification", occurred_at=T0)
    assert metadata_for(update) == {
        "workflow_instance": "2251799813685249",
        "workflow_status": "completed",
        "workflow_message": "order is completed",
        "last_updated": "2026-11-28T08:00:00+00:00",
        "workflow_step": "send-notification",
    }


def test_metadata_for_without_time_uses_now_and_omits_missing_step() -> None:
    metadata = metadata_for(status_update(), now=T0)
    assert metadata["last_updated"] == T0.isoformat()
    assert "workflow_step" not in metadata


def test_process_instance_key_accepts_int_and_digit_string_as_text() -> None:
    assert status_update(process_instance_key=2251799813685249).process_instance_key == "2251799813685249"
    for bad in ("12a", "", -1, True, 1.5):
        with pytest.raises(ValidationError):
            status_update(process_instance_key=bad)


@pytest.mark.parametrize("bad", ["shipped", "", "COMPLETED"])
def test_unknown_status_is_rejected(bad: str) -> None:
    with pytest.raises(ValidationError):
        StatusUpdate.model_validate(
            {"order_id": ORDER_ID, "process_instance_key": "1", "status": bad, "message": "x"}
        )


def test_naive_occurred_at_is_taken_as_utc() -> None:
    update = status_update(occurred_at="2026-11-28T08:00:00")
    assert update.occurred_at == T0


def test_marker_is_the_stored_status() -> None:
    assert has_workflow_marker({"workflow_status": "started"})
    assert not has_workflow_marker({"workflow_message": "x"})
    assert not has_workflow_marker({"workflow_status": ""})
