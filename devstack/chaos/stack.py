"""The stack a chaos run drives: devstack's, with a fault proxy on each link and a second, skewed worker.

Links through a proxy (fault_proxy.py): the worker and the status function to Medusa ("medusa"), Medusa's
subscriber to the webhook function ("webhook"), the worker to the status function ("status"). The engine is
reached directly (the nemesis kills and pauses it instead). Business waits are shortened through the
worker's own settings (README, "Policies"), and the subscriber retries fast, as in the end-to-end tests.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from devstack.chaos.fault_proxy import FaultProxy
from devstack.parts import port_open
from devstack.processes import ManagedProcess, StartupError, wait_until
from devstack.stack import FAST_RETRY, REPO_ROOT, Ports, Stack

# The payment re-check every 2 s, and an order not paid within 40 s fails (the model: 15 min and 3 days).
SHORT_WAITS = {"PAYMENT_RECHECK_INTERVAL": "PT2S", "PAYMENT_MAX_WAIT": "PT40S"}
SKEW_DIR = Path(__file__).resolve().parent / "clock"
SKEWED_WORKER = "worker_skewed"
# The parts the nemesis may kill or pause, and how each comes back.
PARTS = ("worker", SKEWED_WORKER, "order_webhook", "status_update", "engine", "medusa", "medusa_worker")


class ChaosStack(Stack):
    def __init__(
        self,
        run_dir: Path,
        *,
        seed: int,
        clock_skew_seconds: float,
        production: bool = True,
        part_env: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        ports = Ports.free()
        self.proxies = {
            "medusa": FaultProxy("medusa", ports.medusa, seed),
            "webhook": FaultProxy("webhook", ports.order_webhook, seed + 1),
            "status": FaultProxy("status", ports.status_update, seed + 2),
        }
        super().__init__(
            run_dir,
            ports,
            webhook_retry=FAST_RETRY,
            medusa_client_url=self.proxies["medusa"].url,
            production=production,
        )
        self.clock_skew_seconds = clock_skew_seconds
        # Extra settings per part (name -> variables), e.g. a test's planted bug; kept across restarts.
        self.part_env: dict[str, dict[str, str]] = {name: dict(env) for name, env in (part_env or {}).items()}

    def start(self) -> ChaosStack:
        for proxy in self.proxies.values():
            proxy.start()
        super().start()
        self.start_skewed_worker()
        return self

    def stop(self) -> None:
        super().stop()
        for proxy in self.proxies.values():
            proxy.stop()

    # Settings of each part -----------------------------------------------------------------------
    def medusa_env(self) -> dict[str, str]:
        return {
            **super().medusa_env(),
            "ORDER_WEBHOOK_URL": self.proxies["webhook"].url + "/",
            **self.part_env.get("medusa", {}),
        }

    def worker_env(self) -> dict[str, str]:
        return {
            **super().worker_env(),
            **SHORT_WAITS,
            "STATUS_UPDATE_URL": self.proxies["status"].url + "/",
            **self.part_env.get("worker", {}),
        }

    def order_webhook_env(self) -> dict[str, str]:
        return {**super().order_webhook_env(), **self.part_env.get("order_webhook", {})}

    def status_update_env(self) -> dict[str, str]:
        return {**super().status_update_env(), **self.part_env.get("status_update", {})}

    def start_skewed_worker(self) -> ManagedProcess:
        """A second worker whose clock runs `clock_skew_seconds` off (clock/sitecustomize.py shifts it),
        with the stock policy `cancel`."""
        env = {
            **self.worker_env(),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(SKEW_DIR), os.environ.get("PYTHONPATH")])),
            "CHAOS_CLOCK_SKEW_SECONDS": str(self.clock_skew_seconds),
            # The other stock policy than the first worker's default `hold`: a run sees both.
            "STOCK_POLICY": "cancel",
        }
        process = self.group.start(SKEWED_WORKER, [sys.executable, "-m", "worker_job"], env, cwd=REPO_ROOT)
        if not process.is_running():
            raise StartupError(f"the skewed worker exited at start; log {process.log_path}")
        return process

    # What the nemesis does to a part -------------------------------------------------------------
    def signal_part(self, name: str, sig: signal.Signals) -> None:
        """Sends `sig` to the part's whole process group (Medusa's node children too)."""
        pid = self.group.get(name).pid
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)

    def restart(self, name: str) -> None:
        """Starts the part again after it died (its record is dropped first)."""
        self.group.stop(name, grace=5)
        starters = {
            "worker": self.start_worker,
            SKEWED_WORKER: self.start_skewed_worker,
            "order_webhook": self.start_order_webhook,
            "status_update": self.start_status_update,
            "engine": self.start_engine,
            "medusa": self.start_medusa,
            "medusa_worker": self.start_medusa_worker,
        }
        starters[name]()
        if name == "medusa":
            wait_until(lambda: port_open(self.ports.medusa), 120, "Medusa to listen again")
