"""One budget of running jobs shared by the pollers of every job type.

pyzeebe limits each job type on its own (`max_running_jobs` per task): five job types with 32 each could
hold 160 activated jobs while the thread pool runs 32, and the others would sit in a queue with their
timeouts running. Here a poller reserves slots before it asks the engine for jobs (ActivateJobs'
`maxJobsToActivate` is the number reserved), gives back the slots the answer left unused, and every job
gives its slot back when its handler and its command are done. So the jobs activated and not yet finished
never outnumber the budget, which is also the number of threads that run them (worker_job/app.py).
"""

from __future__ import annotations

import asyncio
from collections import deque


class JobBudget:
    """`capacity` slots; reserved by the pollers, given back as jobs end. Lives on the worker's event loop.

    Pollers waiting for a slot are served in the order they asked (a poller that gives its slot back and
    asks again goes to the end of the line), so no job type can keep the others from polling.
    """

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a job budget needs at least one slot")
        self.capacity = capacity
        self.reserved = 0
        # Of the reserved slots, those that hold an activated job (the others wait on an open poll).
        self.jobs_in_hand = 0
        # The most slots ever reserved at once (what the tests look at).
        self.peak = 0
        self._waiting: deque[tuple[asyncio.Future[int], int]] = deque()
        self._closed = False

    @property
    def free(self) -> int:
        return self.capacity - self.reserved

    @property
    def exhausted(self) -> bool:
        return self.free == 0

    async def reserve(self, wanted: int) -> int:
        """Waits for its turn and a free slot, then reserves up to `wanted`; 0 once the budget is closed."""
        if self._closed:
            return 0
        if self.free > 0 and not self._waiting:
            return self._take(wanted)
        turn: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((turn, wanted))
        try:
            return await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self.release(turn.result())  # granted just as the caller was cancelled
            raise

    def release(self, count: int) -> None:
        if count <= 0:
            return
        if count > self.reserved:
            raise ValueError(f"releasing {count} slots of {self.reserved} reserved")
        self.reserved -= count
        self._serve_waiting()

    def job_activated(self) -> None:
        """A reserved slot now holds a job (the poll's reservation is handed over to it)."""
        self.jobs_in_hand += 1

    def job_ended(self) -> None:
        """A job's handler and command are done: its slot is free again."""
        self.jobs_in_hand -= 1
        self.release(1)

    def close(self) -> None:
        """No more reservations (the worker stops activating); waiting pollers get 0 at once."""
        self._closed = True
        while self._waiting:
            turn, _ = self._waiting.popleft()
            if not turn.done():
                turn.set_result(0)

    def _take(self, wanted: int) -> int:
        granted = min(max(wanted, 1), self.free)
        self.reserved += granted
        self.peak = max(self.peak, self.reserved)
        return granted

    def _serve_waiting(self) -> None:
        while self._waiting and self.free > 0:
            turn, wanted = self._waiting.popleft()
            if not turn.done():  # a cancelled waiter left its place
                turn.set_result(self._take(wanted))
