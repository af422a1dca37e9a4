"""The one budget of running jobs the pollers of all job types share."""

from __future__ import annotations

import asyncio

import pytest

from worker_job.capacity import JobBudget


async def settle() -> None:
    """Lets every task that can run, run."""
    for _ in range(5):
        await asyncio.sleep(0)


async def test_reservations_never_exceed_the_capacity() -> None:
    budget = JobBudget(8)

    assert await budget.reserve(6) == 6
    assert await budget.reserve(6) == 2, "what is left"
    waiting = asyncio.create_task(budget.reserve(6))
    await settle()
    assert not waiting.done()

    budget.release(3)
    assert await waiting == 3
    assert (budget.reserved, budget.peak) == (8, 8)


async def test_a_poller_that_gives_back_its_slot_goes_to_the_end_of_the_line() -> None:
    budget = JobBudget(1)
    assert await budget.reserve(1) == 1  # an idle job type's long poll
    other_type = asyncio.create_task(budget.reserve(1))
    await settle()

    budget.release(1)  # its long poll came back empty...
    again = asyncio.create_task(budget.reserve(1))  # ...and it polls again at once
    await settle()

    assert other_type.done(), "the type that waited first gets the slot"
    assert not again.done()
    budget.release(1)
    assert await again == 1


async def test_jobs_hold_their_slots_until_they_end() -> None:
    budget = JobBudget(2)
    await budget.reserve(2)
    budget.job_activated()
    budget.release(1)  # the poll brought one job of the two it asked for

    assert (budget.reserved, budget.jobs_in_hand) == (1, 1)
    budget.job_ended()
    assert (budget.reserved, budget.jobs_in_hand, budget.free) == (0, 0, 2)


async def test_closing_sends_the_waiting_pollers_away_empty_handed() -> None:
    budget = JobBudget(1)
    await budget.reserve(1)
    waiting = [asyncio.create_task(budget.reserve(1)) for _ in range(3)]
    await settle()

    budget.close()

    assert await asyncio.gather(*waiting) == [0, 0, 0]
    assert await budget.reserve(1) == 0
    budget.job_activated()
    budget.job_ended()  # the job in hand still gives its slot back
    assert budget.reserved == 0


async def test_a_cancelled_waiter_leaves_its_place_and_no_slot_behind() -> None:
    budget = JobBudget(1)
    await budget.reserve(1)
    cancelled = asyncio.create_task(budget.reserve(1))
    next_in_line = asyncio.create_task(budget.reserve(1))
    await settle()

    cancelled.cancel()
    await settle()
    budget.release(1)

    assert await next_in_line == 1
    assert budget.reserved == 1


def test_releasing_more_than_reserved_is_a_bug() -> None:
    with pytest.raises(ValueError, match="releasing"):
        JobBudget(2).release(1)
