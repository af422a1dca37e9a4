"""Conflicting workflow writes on two Medusa processes, with a staff edit of a stale snapshot in between.

Each trial takes a new order that no process touches (the webhook refuses its delivery) and records
`payment_verified` on it. Staff open the order in the admin: their metadata form now holds that snapshot.
Two writers then report two different final statuses at the same instant through the plugin's signed
status route, as two status function instances would, each on a different server-mode Medusa and with the
`replaces` the status function sends (any running status). As soon as the first answer is back, staff save
their form through Medusa's Admin API: the whole stale snapshot, numeric strings turned into numbers, as
the admin's form posts it. Then each writer sends its write again, to the other process (the status
function retries after a lost answer, and a retry may reach any instance).

Whatever the interleaving, in every trial exactly one write lands, and what the process (the status
route's answer) and the admin widget see is that write's status, never the snapshot's, with the engine's
process instance key as text.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from e2e.support import Driver, GuardedWebhook

from devstack.admin import AdminApi
from devstack.stack import Stack
from fulfillment.medusa import MedusaClient, StatusWriteAnswer
from fulfillment.workflow import KEY_STATUS, StatusUpdate, WorkflowStatus, metadata_for
from fulfillment.workflow import replaceable_statuses as replaces_for

pytestmark = pytest.mark.production

TRIALS = 50
INSTANCE_KEY = "2251799813699999"
SNAPSHOT_STATUS = WorkflowStatus.PAYMENT_VERIFIED
# The final statuses the two writers report, the first through server 1, the second through server 2.
FINALS = [
    (WorkflowStatus.COMPLETED, WorkflowStatus.PAYMENT_FAILED),
    (WorkflowStatus.OUT_OF_STOCK, WorkflowStatus.COMPLETED),
    (WorkflowStatus.PAYMENT_FAILED, WorkflowStatus.OUT_OF_STOCK),
    (WorkflowStatus.CANCEL_REFUSED, WorkflowStatus.COMPLETED),
    (WorkflowStatus.COMPLETED, WorkflowStatus.CANCEL_REFUSED),
]
PROCESSES = ("server 1", "server 2")


@dataclass(frozen=True)
class Write:
    process: str
    status: str
    applied: bool
    seen_status: object
    seconds: float


@dataclass
class Trial:
    order_id: str
    race: list[Write]
    retries: list[Write]
    rolled_back_by_staff: bool
    widget_status: object
    widget_instance: object

    @property
    def landed(self) -> list[Write]:
        return [write for write in self.race + self.retries if write.applied]

    @property
    def winner(self) -> str | None:
        """The status of the one write of the race that landed (None when not exactly one did)."""
        landed = [write.status for write in self.race if write.applied]
        return landed[0] if len(landed) == 1 else None

    def problems(self) -> list[str]:
        found = []
        race_landed = [(write.process, write.status) for write in self.race if write.applied]
        if len(race_landed) != 1:
            found.append(f"the two writers' race landed {race_landed}")
        for write in self.retries:
            if write.applied:
                found.append(
                    f"the status had gone back to {SNAPSHOT_STATUS.value}: the retry of {write.status} "
                    f"on {write.process} landed again"
                )
        seen_by_process = {write.seen_status for write in self.retries}
        if self.winner is None or seen_by_process != {self.winner}:
            found.append(f"the status route answered {sorted(map(str, seen_by_process))} after the edit")
        if self.widget_status != self.winner:
            found.append(f"the widget showed {self.widget_status!r}")
        if self.widget_instance != INSTANCE_KEY:
            found.append(f"the widget's instance key was {self.widget_instance!r}")
        return found


class Writers:
    """The status route's two callers, one per Medusa server process, and staff at the admin on each."""

    def __init__(self, stack: Stack, urls: tuple[str, str]) -> None:
        assert stack.secrets is not None
        self.clients = [MedusaClient(url, stack.secrets.medusa_status) for url in urls]
        self.staff = [AdminApi(url, token=stack.admin_token) for url in urls]

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for admin in self.staff:
            admin.close()

    def write(self, process: int, order_id: str, status: WorkflowStatus) -> Write:
        update = StatusUpdate(
            order_id=order_id,
            process_instance_key=INSTANCE_KEY,
            status=status,
            message=f"reported through {PROCESSES[process]}",
            step="race",
            occurred_at=datetime.now(UTC),
        )
        started = time.monotonic()
        answer: StatusWriteAnswer = self.clients[process].write_status(
            order_id, metadata_for(update), replaces_for(status)
        )
        seconds = time.monotonic() - started
        seen = answer.metadata.get(KEY_STATUS)
        return Write(PROCESSES[process], status.value, answer.applied, seen, seconds)


@pytest.fixture(scope="module")
def writers(stack: Stack, second_server: str) -> Iterator[Writers]:
    writers = Writers(stack, (stack.medusa_url, second_server))
    yield writers
    writers.close()


def as_the_admin_form_posts_it(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The admin's metadata form posts every key it loaded, and turns numeric strings into numbers."""
    return {
        key: int(value) if isinstance(value, str) and value.isdigit() else value
        for key, value in snapshot.items()
    }


def race(
    writers: Writers,
    order_id: str,
    finals: tuple[WorkflowStatus, WorkflowStatus],
    staff_save: Callable[[], object],
) -> list[Write]:
    """Both writes leave at the same instant; staff save as soon as the first answer is back."""
    barrier = threading.Barrier(2)
    first_answer = threading.Event()
    results: list[Write | None] = [None, None]
    errors: list[BaseException] = []

    def write(process: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[process] = writers.write(process, order_id, finals[process])
        except BaseException as error:
            errors.append(error)
        finally:
            first_answer.set()

    def save() -> None:
        first_answer.wait(timeout=60)
        try:
            staff_save()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=write, args=(i,)) for i in (0, 1)] + [threading.Thread(target=save)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [result for result in results if result is not None]


def run_trial(number: int, writers: Writers, driver: Driver, guarded: GuardedWebhook) -> Trial:
    order_id = guarded.place_order(driver).id
    first = writers.write(number % 2, order_id, SNAPSHOT_STATUS)
    assert first.applied, f"trial {number}: the first status did not land on {order_id}"
    staff = writers.staff[number % 2]
    form = as_the_admin_form_posts_it(staff.order_metadata(order_id))
    assert form[KEY_STATUS] == SNAPSHOT_STATUS

    finals = FINALS[number % len(FINALS)]
    raced = race(
        writers, order_id, finals, lambda: staff.post(f"/admin/orders/{order_id}", {"metadata": form})
    )
    rolled_back = staff.order_metadata(order_id).get(KEY_STATUS) == SNAPSHOT_STATUS
    retries = [writers.write(1 - process, order_id, finals[process]) for process in (0, 1)]
    view = staff.get(f"/admin/fulfillment-workflow/orders/{order_id}")["workflow"]
    return Trial(order_id, raced, retries, rolled_back, view["status"], view["process_instance_key"])


def report(trials: list[Trial], seconds: float) -> None:
    race_landed = Counter(sum(write.applied for write in trial.race) for trial in trials)
    wins = Counter(write.process for trial in trials for write in trial.race if write.applied)
    latencies = [write.seconds for trial in trials for write in trial.race + trial.retries]
    print(
        f"\nconflicting writes across Medusa processes: {len(trials)} trials in {seconds:.0f} s\n"
        f"  race of two writers: exactly one landed in {race_landed[1]}, both in {race_landed[2]}, "
        f"neither in {race_landed[0]}\n"
        f"  conflicts seen (a writer refused because the other's write was stored): "
        f"{sum(not w.applied for t in trials for w in t.race)}\n"
        f"  staff's stale save put the snapshot's status back into the metadata in "
        f"{sum(t.rolled_back_by_staff for t in trials)} trials\n"
        f"  retries that landed after the staff save: {sum(w.applied for t in trials for w in t.retries)}\n"
        f"  race wins per process: {dict(sorted(wins.items()))}\n"
        f"  trials with exactly one write landed: {sum(len(t.landed) == 1 for t in trials)}\n"
        f"  status route: median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {max(latencies) * 1000:.0f} ms"
    )


def test_conflicting_writes_on_two_processes_with_a_stale_staff_edit_never_move_the_status_back(
    writers: Writers, driver: Driver, guarded_webhook: GuardedWebhook
) -> None:
    started = time.monotonic()
    trials = [run_trial(number, writers, driver, guarded_webhook) for number in range(TRIALS)]
    report(trials, time.monotonic() - started)

    problems = {trial.order_id: trial.problems() for trial in trials if trial.problems()}
    assert not problems, f"{len(problems)} of {TRIALS} trials went wrong: {problems}"
