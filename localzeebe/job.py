"""Activatable jobs per type, oldest first, and the long-polling ActivateJobs requests waiting on them."""

from __future__ import annotations

import asyncio
import itertools


class JobQueue:
    def __init__(self) -> None:
        self._activatable: dict[str, dict[int, None]] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}

    def push(self, job_type: str, key: int) -> None:
        """Make a job activatable and wake the requests long-polling for its type."""
        self._activatable.setdefault(job_type, {})[key] = None
        for future in self._waiters.pop(job_type, []):
            if not future.done():
                future.set_result(None)

    def remove(self, job_type: str, key: int) -> None:
        self._activatable.get(job_type, {}).pop(key, None)

    def take(self, job_type: str, max_jobs: int) -> list[int]:
        """Remove and return up to max_jobs keys, oldest first."""
        queue = self._activatable.get(job_type)
        if not queue:
            return []
        keys = list(itertools.islice(queue, max_jobs))
        for key in keys:
            del queue[key]
        return keys

    async def wait(self, job_type: str, timeout_s: float) -> None:
        """Wait until a job of this type becomes activatable, or the timeout passes."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiters = self._waiters.setdefault(job_type, [])
        waiters.append(future)
        try:
            await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            pass
        finally:
            if future in waiters:
                waiters.remove(future)
