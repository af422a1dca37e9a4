"""What a handler needs to know about the job it runs, taken from pyzeebe's Job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyzeebe import Job

from fulfillment.order_ids import is_order_id


class MissingJobVariable(Exception):
    """The job lacks a variable the process must provide (a modelling error: the job should fail)."""


@dataclass(frozen=True)
class JobContext:
    job_type: str
    process_instance_key: int
    order_id: str
    headers: Mapping[str, str]
    variables: Mapping[str, Any]

    @classmethod
    def from_job(cls, job: Job) -> JobContext:
        order_id = job.variables.get("order_id")
        if not isinstance(order_id, str) or not is_order_id(order_id):
            raise MissingJobVariable(f"variable order_id is missing or not a Medusa order id: {order_id!r}")
        return cls(
            job_type=job.type,
            process_instance_key=job.process_instance_key,
            order_id=order_id,
            headers=dict(job.custom_headers),
            variables=dict(job.variables),
        )

    def header(self, name: str, default: str) -> str:
        value = self.headers.get(name)
        return value if value else default

    def text_variable(self, name: str) -> str | None:
        value = self.variables.get(name)
        return value if isinstance(value, str) and value else None
