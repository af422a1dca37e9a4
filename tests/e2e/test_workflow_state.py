"""The workflow state lives in the plugin's own table; the order's metadata only mirrors it.

Staff (or another plugin) may write a stale snapshot of the metadata through Medusa's Admin API: the
admin's metadata form posts every key it loaded, and turns numeric strings into numbers. Such an edit
changes nothing the process (the `view` route, the status route's decision) or the admin widget sees, and
the next applied status writes the mirror again. Two writers racing on one order never move it back.

Every order here is placed while the webhook refuses the subscriber (`guarded_webhook`), so the calls
below are its only workflow writers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from devstack.stack import Stack
from fulfillment.workflow import WorkflowStatus, replaceable_statuses

from .plugin_support import PluginRoutes, workflow_write
from .support import Driver, GuardedWebhook

pytestmark = pytest.mark.e2e

INSTANCE_KEY = "2251799813699999"
TRIALS = 30
# (lower, higher): whichever lands first, the order must end at the higher one.
CONFLICTS = [
    ("payment_verified", "completed"),
    ("inventory_reserved", "out_of_stock"),
    ("payment_verified", "payment_failed"),
    ("payment_verified", "inventory_reserved"),
    ("inventory_reserved", "completed"),
]


@pytest.fixture(scope="module")
def routes(stack: Stack, guarded_webhook: GuardedWebhook) -> Iterator[PluginRoutes]:
    routes = PluginRoutes(stack)
    yield routes
    routes.close()


def write(routes: PluginRoutes, order_id: str, status: str) -> dict[str, Any]:
    """The status function's write: any lower, non-terminal stored status may be replaced."""
    replaces = replaceable_statuses(WorkflowStatus(status))
    return routes.call("status", order_id, workflow_write(order_id, status, replaces))


def as_the_admin_form_posts_it(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The admin's metadata form (Medusa's dashboard, `parseValues`) sends back every key it loaded, with
    "true"/"false" as booleans and every numeric string as a number."""
    return {
        key: float(value) if isinstance(value, str) and value.isdigit() else value
        for key, value in snapshot.items()
    }


def seen_by_the_worker(routes: PluginRoutes, order_id: str) -> dict[str, Any]:
    workflow: dict[str, Any] = routes.call("view", order_id)["order"]["workflow"]
    return workflow


def seen_by_the_widget(routes: PluginRoutes, order_id: str) -> dict[str, Any]:
    view: dict[str, Any] = routes.admin.get(f"/admin/fulfillment-workflow/orders/{order_id}")["workflow"]
    return view


def test_a_stale_staff_edit_changes_nothing_the_process_and_the_widget_see(routes: PluginRoutes) -> None:
    order = routes.place_unstarted_order()
    routes.admin.post(f"/admin/orders/{order.id}", {"metadata": {"gift_note": "Happy birthday"}})
    assert write(routes, order.id, "awaiting_payment")["applied"]
    # Staff open the order's metadata form now, and save it after the next status has been written.
    form = as_the_admin_form_posts_it(routes.admin.order_metadata(order.id))
    assert form["workflow_instance"] == float(INSTANCE_KEY)
    assert write(routes, order.id, "payment_verified")["applied"]

    routes.admin.post(f"/admin/orders/{order.id}", {"metadata": form})

    metadata = routes.admin.order_metadata(order.id)
    assert metadata["workflow_status"] == "awaiting_payment", "the stale edit did not land: no test"
    assert not isinstance(metadata["workflow_instance"], str), metadata
    worker = seen_by_the_worker(routes, order.id)
    assert worker["workflow_status"] == "payment_verified", worker
    assert worker["workflow_instance"] == INSTANCE_KEY, worker
    widget = seen_by_the_widget(routes, order.id)
    assert (widget["status"], widget["state"]) == ("payment_verified", "running"), widget
    assert widget["process_instance_key"] == INSTANCE_KEY, widget
    linked = routes.admin.order(order.id, fields="id,order_workflow.*")["order_workflow"]
    assert (linked["status"], linked["instance_key"]) == ("payment_verified", INSTANCE_KEY), linked

    # The next decision compares with the stored status, not the metadata's: a write that replaces only
    # what the stale metadata shows is refused.
    stale = routes.call(
        "status", order.id, workflow_write(order.id, "inventory_reserved", [None, "awaiting_payment"])
    )
    assert (stale["applied"], stale["reason"]) == (False, "stale"), stale
    assert stale["metadata"]["workflow_status"] == "payment_verified"

    # The next applied status repairs the mirror, as text, and leaves staff's own keys alone.
    assert write(routes, order.id, "inventory_reserved")["applied"]
    metadata = routes.admin.order_metadata(order.id)
    assert metadata["workflow_status"] == "inventory_reserved", metadata
    assert metadata["workflow_instance"] == INSTANCE_KEY, metadata
    assert metadata["gift_note"] == "Happy birthday", metadata


def race(routes: PluginRoutes, order_id: str, statuses: tuple[str, str]) -> list[dict[str, Any]]:
    """Both writes leave at the same instant, each on its own connection."""
    barrier = threading.Barrier(len(statuses))
    answers: list[dict[str, Any]] = []
    errors: list[BaseException] = []

    def send(status: str) -> None:
        writer = PluginRoutes(routes.stack)
        try:
            barrier.wait(timeout=30)
            answers.append(write(writer, order_id, status))
        except BaseException as error:
            errors.append(error)
        finally:
            writer.close()

    threads = [threading.Thread(target=send, args=(status,)) for status in statuses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return answers


def test_two_writers_racing_never_move_an_order_back(routes: PluginRoutes, driver: Driver) -> None:
    order = routes.place_unstarted_order()
    write(routes, order.id, "awaiting_payment")
    outcomes: list[str] = []

    for trial in range(TRIALS):
        lower, higher = CONFLICTS[trial % len(CONFLICTS)]
        # Back in the plugin's table: no route moves a status back.
        driver.reset_workflow_status(order.id, "awaiting_payment")
        statuses = (lower, higher) if trial % 2 else (higher, lower)

        answers = race(routes, order.id, statuses)

        landed = sorted(answer["metadata"]["workflow_status"] for answer in answers if answer["applied"])
        worker = seen_by_the_worker(routes, order.id)["workflow_status"]
        mirror = routes.admin.order_metadata(order.id)["workflow_status"]
        outcomes.append(f"{lower}/{higher}: landed {landed}, stored {worker}, mirrored {mirror}")
        assert worker == higher, f"trial {trial}: {outcomes[-1]}"
        assert mirror == higher, f"trial {trial}: {outcomes[-1]}"
        assert higher in landed, f"trial {trial}: {outcomes[-1]}"
    assert len(outcomes) == TRIALS
