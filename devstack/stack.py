"""The whole system on loopback: PostgreSQL, Medusa (+ seed), the local engine, both functions, the worker.

`Stack(run_dir, ports).start()` brings the parts up in that order, each checked healthy before the next;
`stop()` stops them in reverse order. Used by `python -m devstack` and by the end-to-end tests.

`Stack(..., production=True)` runs the shop as production does (tests/production): Redis for Medusa's event
bus, workflow engine, locking and cache, and two Medusa processes on the one database, a server
(MEDUSA_WORKER_MODE=server, the HTTP API on `ports.medusa`) and a worker (MEDUSA_WORKER_MODE=worker: the
subscribers and scheduled jobs; it serves only GET /health, on `ports.medusa_worker`), with Medusa's RBAC
feature flag on.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import TracebackType

from devstack.medusa import ADMIN_EMAIL, ADMIN_PATH, AdminLogin, Medusa
from devstack.parts import free_ports, function_argv, port_open, without_project_settings
from devstack.plugin import install_plugin
from devstack.postgres import Postgres, cluster_dir
from devstack.processes import ManagedProcess, ProcessGroup, StartupError, wait_until
from devstack.redis import Redis
from devstack.seed import SeedResult, seed
from fulfillment.settings import GivenValuesOnly, ModelDeploySettings
from localzeebe.launcher import EngineStartError, LocalEngine
from worker_job.deploy_model import deploy_models

REPO_ROOT = Path(__file__).resolve().parent.parent
PART_TIMEOUT_SECONDS = 60


class _GivenSettingsOnly(GivenValuesOnly, ModelDeploySettings):
    pass


def local_deploy_settings(engine_address: str, api_url: str) -> ModelDeploySettings:
    """The model deploy step's settings for a local engine, and nothing from the environment: a developer's
    real Camunda credentials in the shell never reach a local part."""
    return _GivenSettingsOnly(zeebe_address=engine_address, camunda_api_url=api_url)


@dataclass(frozen=True)
class Ports:
    postgres: int = 54329
    medusa: int = 9000
    engine_grpc: int = 26500
    engine_http: int = 26501
    order_webhook: int = 8081
    status_update: int = 8082
    # Only the production-shaped stack starts these two.
    redis: int = 6389
    medusa_worker: int = 9001

    @classmethod
    def free(cls) -> Ports:
        return cls(*free_ports(len(fields(cls))))


@dataclass(frozen=True)
class WebhookRetry:
    """The subscriber's retry policy and the reconciliation job's timing, as ORDER_WEBHOOK_* variables that
    the demo shop's medusa-config.ts passes to the plugin's options `retry` and `reconciliation`."""

    max_attempts: int = 10
    base_ms: int = 1_000
    max_ms: int = 60_000
    timeout_ms: int = 10_000
    reconcile_interval_ms: int = 300_000
    reconcile_min_age_ms: int = 600_000

    def env(self) -> dict[str, str]:
        return {
            "ORDER_WEBHOOK_MAX_ATTEMPTS": str(self.max_attempts),
            "ORDER_WEBHOOK_RETRY_BASE_MS": str(self.base_ms),
            "ORDER_WEBHOOK_RETRY_MAX_MS": str(self.max_ms),
            "ORDER_WEBHOOK_TIMEOUT_MS": str(self.timeout_ms),
            "ORDER_WEBHOOK_RECONCILE_INTERVAL_MS": str(self.reconcile_interval_ms),
            "ORDER_WEBHOOK_RECONCILE_MIN_AGE_MS": str(self.reconcile_min_age_ms),
        }


# Fast subscriber retries (about a minute in all) and a reconciliation pass every 2 s for orders older than
# 5 s: the end-to-end tests and the chaos runs, where a fault of a few seconds should cost seconds.
FAST_RETRY = WebhookRetry(
    max_attempts=40,
    base_ms=200,
    max_ms=1_500,
    timeout_ms=5_000,
    reconcile_interval_ms=2_000,
    reconcile_min_age_ms=5_000,
)


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class Secrets:
    """One secret per signed path (docs/contracts.md): the plugin signs its events for order_webhook, the
    worker signs its reports to status_update, and each caller of the plugin's routes has its own."""

    order_webhook: str = field(default_factory=new_webhook_secret)
    status_update: str = field(default_factory=new_webhook_secret)
    medusa_worker: str = field(default_factory=new_webhook_secret)
    medusa_status: str = field(default_factory=new_webhook_secret)
    jwt: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    cookie: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    admin_password: str = field(default_factory=lambda: new_admin_password())


def new_admin_password() -> str:
    """A random password that `medusa user -p` takes as a value: one starting with "-" (which
    token_urlsafe may give) would be read as an option and the user never created."""
    return "pw" + secrets.token_urlsafe(16)


def _load_or_create_secrets(path: Path) -> Secrets:
    """Webhook secrets are new for every run; the admin password must match the database's user."""
    password = None
    if path.exists():
        password = json.loads(path.read_text()).get("admin_password")
    created = Secrets() if password is None else Secrets(admin_password=password)
    path.write_text(json.dumps(asdict(created)))
    path.chmod(0o600)
    return created


class Stack:
    def __init__(
        self,
        run_dir: Path,
        ports: Ports | None = None,
        *,
        webhook_retry: WebhookRetry | None = None,
        medusa_client_url: str | None = None,
        production: bool = False,
        say: Callable[[str], None] = print,
    ) -> None:
        self.run_dir = run_dir.resolve()
        self.production = production
        # Where the status function and the worker reach the plugin's routes: Medusa itself unless something
        # is put in between (the benchmark's counting proxy).
        self.medusa_client_url = medusa_client_url
        self.ports = ports or Ports()
        self.webhook_retry = webhook_retry or WebhookRetry()
        self.say = say
        self.group = ProcessGroup(self.run_dir, log=say)
        self.secrets: Secrets | None = None
        self.seed: SeedResult | None = None
        self.postgres_url = ""
        self.redis_url = ""
        self.admin_token = ""

    # URLs --------------------------------------------------------------------------------------
    @property
    def medusa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.medusa}"

    @property
    def medusa_worker_url(self) -> str:
        """The worker-mode Medusa of the production-shaped stack: it answers GET /health only."""
        return f"http://127.0.0.1:{self.ports.medusa_worker}"

    @property
    def subscriber_process(self) -> str:
        """The name of the Medusa process whose log shows what subscribers and scheduled jobs did."""
        return "medusa_worker" if self.production else "medusa"

    @property
    def subscriber_log(self) -> Path:
        return self.group.get(self.subscriber_process).log_path

    @property
    def admin_url(self) -> str:
        return f"{self.medusa_url}{ADMIN_PATH}"

    @property
    def admin_login(self) -> AdminLogin:
        assert self.secrets is not None
        return AdminLogin(ADMIN_EMAIL, self.secrets.admin_password)

    @property
    def order_webhook_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.order_webhook}/"

    @property
    def status_update_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.status_update}/"

    @property
    def engine_http_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.engine_http}"

    @property
    def engine_address(self) -> str:
        return f"127.0.0.1:{self.ports.engine_grpc}"

    @property
    def outbox_dir(self) -> Path:
        return self.run_dir / "outbox"

    @property
    def shop_events_log(self) -> Path:
        """The demo shop's own order subscribers write a line per event here (medusa/backend)."""
        return self.run_dir / "shop-events.jsonl"

    @property
    def engine_data_dir(self) -> Path:
        return self.run_dir / "engine"

    # Lifecycle ---------------------------------------------------------------------------------
    def start(self) -> Stack:
        started = time.monotonic()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.secrets = _load_or_create_secrets(self.run_dir / "secrets.json")
        self._check_ports_free()
        try:
            self._start_postgres()
            if self.production:
                self._start_redis()
            self._start_medusa()
            self.start_engine()
            self.start_order_webhook()
            self.start_status_update()
            self.start_worker()
            self._write_state()
        except BaseException:
            self.stop()
            raise
        self.say(f"stack is up in {time.monotonic() - started:.0f} s")
        return self

    def _check_ports_free(self) -> None:
        """A health check must never be answered by someone else's server on our port."""
        wanted = asdict(self.ports)
        if not self.production:
            del wanted["redis"], wanted["medusa_worker"]
        taken = {name: port for name, port in wanted.items() if port_open(port)}
        if taken:
            listing = ", ".join(f"{name} {port}" for name, port in taken.items())
            raise StartupError(f"ports already in use on 127.0.0.1: {listing} (is a stack already running?)")

    def stop(self) -> None:
        self.group.stop_all()
        (self.run_dir / "stack.json").unlink(missing_ok=True)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _write_state(self) -> None:
        state = {
            "medusa_url": self.medusa_url,
            "admin_url": self.admin_url,
            "order_webhook_url": self.order_webhook_url,
            "status_update_url": self.status_update_url,
            "engine_address": self.engine_address,
            "engine_http_url": self.engine_http_url,
            "ports": asdict(self.ports),
            "production": self.production,
        }
        (self.run_dir / "stack.json").write_text(json.dumps(state, indent=2))

    # Parts -------------------------------------------------------------------------------------
    def _base_env(self) -> dict[str, str]:
        """Our environment minus the project's own settings: a developer's real Camunda credentials or
        shop URL in the shell must not leak into the local parts, which get exactly what they need."""
        return {**without_project_settings(os.environ), "PYTHONUNBUFFERED": "1"}

    def _start_postgres(self) -> None:
        postgres = Postgres(cluster_dir(self.run_dir / "postgres"), self.ports.postgres, self.group)
        if postgres.initialise():
            self.say("created a new PostgreSQL cluster")
            for marker in (self.run_dir / "medusa").glob("migrated-*"):
                marker.unlink()
        self.say(f"starting PostgreSQL on 127.0.0.1:{self.ports.postgres}...")
        self.postgres_url = postgres.start(self._base_env()).url

    def _start_redis(self) -> None:
        self.say(f"starting Redis on 127.0.0.1:{self.ports.redis}...")
        redis = Redis(self.run_dir / "redis", self.ports.redis, self.group)
        self.redis_url = redis.start(self._base_env()).url

    def medusa_env(self) -> dict[str, str]:
        """Every Medusa process's settings; the production-shaped stack adds Redis and the RBAC flag (each
        process gets its MEDUSA_WORKER_MODE when it starts)."""
        assert self.secrets is not None
        production = {"REDIS_URL": self.redis_url, "MEDUSA_FF_RBAC": "true"} if self.production else {}
        return {
            **self._base_env(),
            **self.webhook_retry.env(),
            "DATABASE_URL": self.postgres_url,
            "JWT_SECRET": self.secrets.jwt,
            "COOKIE_SECRET": self.secrets.cookie,
            "MEDUSA_DISABLE_TELEMETRY": "true",
            "ORDER_WEBHOOK_URL": self.order_webhook_url,
            "ORDER_WEBHOOK_SECRET": self.secrets.order_webhook,
            "MEDUSA_WORKER_SECRET": self.secrets.medusa_worker,
            "MEDUSA_STATUS_SECRET": self.secrets.medusa_status,
            # The plugin's Camunda client (the admin's restart and incident retry): the local engine's REST
            # API, which takes no credentials.
            "CAMUNDA_REST_URL": self.engine_http_url,
            # The demo shop's Notification Module provider writes each customer mail here.
            "NOTIFICATION_OUTBOX_DIR": str(self.outbox_dir),
            "SHOP_EVENTS_LOG": str(self.shop_events_log),
            **production,
        }

    def _medusa(self, name: str = "medusa", port: int | None = None, mode: str | None = None) -> Medusa:
        env = self.medusa_env()
        if mode is not None:
            env["MEDUSA_WORKER_MODE"] = mode
        port = port or self.ports.medusa
        return Medusa(self.run_dir / "medusa", port, env, self.group, self.say, name=name)

    def _start_medusa(self) -> None:
        assert self.secrets is not None
        install_plugin(self.say)
        medusa = self._medusa()
        medusa.migrate()
        medusa.build_admin()
        # The server first, alone: the first boot on a fresh database creates the store's defaults (store,
        # sales channel, ...), which two processes booting at once could both create.
        self.start_medusa()
        if self.production:
            self.start_medusa_worker()
        self.admin_token = medusa.admin_token(self.admin_login)
        self.say("seeding the store (region, stock, shipping, product, publishable key)...")
        self.seed = seed(self.medusa_url, self.admin_token, self.run_dir / "seed.json")

    def start_medusa(self) -> ManagedProcess:
        """Starts the Medusa that serves HTTP (again after `stop_part("medusa")`: the plugin, migrations and
        seed are kept); in the production-shaped stack it is the server-mode process."""
        return self._medusa(mode="server" if self.production else None).start()

    def start_medusa_worker(self) -> ManagedProcess:
        """The production-shaped stack's worker-mode Medusa (again after `stop_part("medusa_worker")`)."""
        return self._medusa("medusa_worker", self.ports.medusa_worker, mode="worker").start()

    def start_medusa_server(self, name: str, port: int) -> ManagedProcess:
        """One more server-mode Medusa on the same database and Redis, as a shop scales its HTTP out (only in
        the production-shaped stack); stop it with `stop_part(name)`."""
        if not self.production:
            raise ValueError("more Medusa servers share state only through Redis: use production=True")
        return self._medusa(name, port, mode="server").start()

    def _medusa_client_env(self, secret_name: str, secret: str) -> dict[str, str]:
        """What a caller of the plugin's routes needs: where Medusa is, and its own secret (no admin key)."""
        return {
            **self._base_env(),
            "MEDUSA_BACKEND_URL": self.medusa_client_url or self.medusa_url,
            secret_name: secret,
        }

    def start_engine(self) -> ManagedProcess:
        self.say(f"starting the local engine on {self.engine_address} (inspection {self.engine_http_url})...")
        self.engine_data_dir.mkdir(parents=True, exist_ok=True)
        try:
            engine = LocalEngine.start(
                port=self.ports.engine_grpc,
                http_port=self.ports.engine_http,
                data_dir=self.engine_data_dir,
                log_path=self.group.log_path("engine"),
                env=self._base_env(),
                # Own session, as for every part: Ctrl-C reaches only us, and we stop the parts in order.
                new_session=True,
                start_timeout=PART_TIMEOUT_SECONDS,
            )
        except EngineStartError as error:
            raise StartupError(f"the engine did not start: {error}") from None
        process = self.group.adopt("engine", engine.process, engine.log_path)
        # The deployment's model step, as production runs it (workers only check that it ran).
        deploy_models(self.model_deploy_settings())
        return process

    def model_deploy_settings(self) -> ModelDeploySettings:
        return local_deploy_settings(self.engine_address, self.engine_http_url)

    def order_webhook_env(self) -> dict[str, str]:
        """No Medusa setting: the signed event carries what the process needs."""
        assert self.secrets is not None
        return {
            **self._base_env(),
            "ZEEBE_ADDRESS": self.engine_address,
            "ORDER_WEBHOOK_SECRET": self.secrets.order_webhook,
        }

    def status_update_env(self) -> dict[str, str]:
        assert self.secrets is not None
        return {
            **self._medusa_client_env("MEDUSA_STATUS_SECRET", self.secrets.medusa_status),
            "STATUS_UPDATE_SECRET": self.secrets.status_update,
        }

    def worker_env(self) -> dict[str, str]:
        assert self.secrets is not None
        return {
            **self._medusa_client_env("MEDUSA_WORKER_SECRET", self.secrets.medusa_worker),
            "ZEEBE_ADDRESS": self.engine_address,
            # The engine's HTTP port also serves the REST API subset the worker's start check uses.
            "CAMUNDA_API_URL": self.engine_http_url,
            "STATUS_UPDATE_URL": self.status_update_url,
            "STATUS_UPDATE_SECRET": self.secrets.status_update,
        }

    def start_order_webhook(self, extra_env: Mapping[str, str] | None = None) -> ManagedProcess:
        env = {**self.order_webhook_env(), **(extra_env or {})}
        return self._start_function("order_webhook", self.ports.order_webhook, env)

    def start_status_update(self, name: str = "status_update", port: int | None = None) -> ManagedProcess:
        """Starts the status function; a second one under another name and port, as Cloud Functions would
        scale out."""
        env = self.status_update_env()
        return self._start_function(name, port or self.ports.status_update, env, target="status_update")

    def _start_function(
        self, name: str, port: int, env: Mapping[str, str], target: str | None = None
    ) -> ManagedProcess:
        self.say(f"starting the {name} function on http://127.0.0.1:{port}/ ...")
        process = self.group.start(name, function_argv(target or name, port), env, cwd=REPO_ROOT)
        wait_until(lambda: port_open(port), PART_TIMEOUT_SECONDS, f"the {name} function", process)
        return process

    def start_worker(self, extra_env: Mapping[str, str] | None = None) -> ManagedProcess:
        self.say("starting the worker...")
        env = {**self.worker_env(), **(extra_env or {})}
        process = self.group.start("worker", [sys.executable, "-m", "worker_job"], env, cwd=REPO_ROOT)
        # The worker has no port: it is up when it is still running after connecting to the engine.
        time.sleep(1.0)
        if not process.is_running():
            raise StartupError(f"the worker exited at start; log {process.log_path}:\n{process.log_tail()}")
        return process

    def stop_part(self, name: str) -> int | None:
        """Stops one part (e.g. "order_webhook", "engine", "worker"); returns its exit code."""
        return self.group.stop(name)
