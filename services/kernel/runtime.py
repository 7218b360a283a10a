"""What every service process does around its own code: open the database, migrate, run the
outbox relay, the consumers and the broker watch, serve health and metrics, and the
`python -m services.<name> [serve|worker|consume|migrate|republish]` commands."""

import argparse
import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import uvicorn
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import TokenVerifier
from services.kernel.db import Database, migrate_async, open_database
from services.kernel.errors import install_error_handlers, problem
from services.kernel.kafka import (
    BrokerEpoch,
    Consumer,
    dlq_topic,
    new_admin,
    new_producer,
    run_consumer,
    watch_broker,
)
from services.kernel.limits import BodyLimit
from services.kernel.observability import (
    configure_logging,
    events_consumed_counter,
    install_metrics,
    install_observability,
)
from services.kernel.outbox import run_relay, watch_backlog
from services.kernel.retries import until_it_works
from services.kernel.settings import KernelSettings

log = logging.getLogger("taskforce.runtime")

Snapshot = Callable[[AsyncSession], Awaitable[int]]

# What a process runs beside its database. `worker`: the outbox relay, the broker watch (topic
# creation), the background loops and the consumers, in one pod per service. `consumers`: the
# consumers alone, for extra pods that join the same consumer groups, so Kafka spreads the
# partitions over them. `api`: none of these, only the admin client its readiness asks.
WorkerRole = Literal["worker", "consumers"]
Role = Literal["api", WorkerRole]


@dataclass(frozen=True)
class ServiceSpec:
    """The facts that make a process one particular service."""

    name: str
    title: str
    description: str
    migrations_dir: Path
    routers: list[APIRouter]
    publishes: list[str] = field(default_factory=list)
    consumers: list[Consumer] = field(default_factory=list)
    # Queues the full current state of every entity this service owns in the outbox.
    snapshot: Snapshot | None = None
    # Runs once after migrations, before serving (e.g. to fail jobs a crash interrupted).
    on_start: Callable[[Database], Awaitable[object]] | None = None
    # Routes (path regex) that accept bodies larger than `max_body_bytes`, and their limit.
    large_bodies: dict[str, int] = field(default_factory=dict)
    # Loops the worker runs beside the relay and the consumers (sweepers, job dispatchers);
    # each takes the runtime and runs until cancelled.
    background: list[Callable[["Runtime"], Coroutine[Any, Any, None]]] = field(default_factory=list)

    def topics_to_create(self) -> list[str]:
        consumed = {topic for consumer in self.consumers for topic in consumer.topics}
        return sorted(set(self.publishes) | {dlq_topic(t) for t in consumed})


@dataclass
class Runtime:
    spec: ServiceSpec
    settings: KernelSettings
    db: Database
    admin: AIOKafkaAdminClient | None = None
    producer: AIOKafkaProducer | None = None
    broker_ready: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task] = field(default_factory=list)
    # In-memory state a service keeps for the life of the process (matching's index).
    state: dict[str, object] = field(default_factory=dict)
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    epoch: BrokerEpoch = field(default_factory=BrokerEpoch)

    def spawn(self, work: Awaitable[object], name: str = "background") -> asyncio.Task:
        """Run `work` in the background for as long as the process lives; cancelled at
        shutdown with everything else."""
        task = asyncio.ensure_future(work)
        task.set_name(name)
        self.tasks.append(task)
        task.add_done_callback(self._forget)
        return task

    def _forget(self, task: asyncio.Task) -> None:
        if task in self.tasks:
            self.tasks.remove(task)

    async def on_broker_reset(self) -> int:
        """The broker lost its state: consumers rewind, and our entities are republished. The
        check at start-up finds a new broker too; consumers are only starting then."""
        if self.broker_ready.is_set():
            self.epoch.value += 1
        return await self.queue_snapshot()

    async def queue_snapshot(self) -> int:
        if self.spec.snapshot is None:
            return 0
        async with self.db.sessions() as session:
            count = await self.spec.snapshot(session)
            await session.commit()
        return count

    async def broker_reachable(self, timeout_s: float = 2.0) -> bool:
        if self.admin is None:
            return False
        try:
            await asyncio.wait_for(self.admin.list_topics(), timeout_s)
            return True
        except Exception:
            return False


async def _start_with_retry(client, what: str) -> None:  # type: ignore[no-untyped-def]
    """Start an aiokafka client, however long the broker takes to appear."""

    async def start() -> None:
        try:
            await client.start()
        except Exception:
            # A half-started client holds connections; release them before the next try.
            with contextlib.suppress(Exception):
                await (client.close() if hasattr(client, "close") else client.stop())
            raise

    await until_it_works(f"{what} start")(start)


async def _connect_broker(rt: Runtime) -> None:
    rt.admin = new_admin(rt.settings)
    await _start_with_retry(rt.admin, "admin client")


async def _run_worker_tasks(rt: Runtime, role: WorkerRole) -> None:
    """Producer and consumers, and for the `worker` role the broker watch, the relay and the
    background loops; never gives up on an absent broker."""
    # Registered before the broker answers, so that /metrics shows it from the start.
    outcomes = events_consumed_counter(rt.registry)
    if role == "worker":
        rt.tasks.append(
            asyncio.create_task(
                watch_backlog(rt.db, rt.registry, rt.settings.outbox_metrics_interval_s),
                name="outbox-backlog",
            )
        )
    await _connect_broker(rt)
    # The consumers need a producer too: it sends what they dead-letter.
    producer = new_producer(rt.settings)
    await _start_with_retry(producer, "producer")
    rt.producer = producer
    assert rt.admin is not None
    s = rt.settings
    if role == "worker":
        rt.tasks.append(
            asyncio.create_task(
                watch_broker(
                    rt.admin, s, rt.spec.topics_to_create(), rt.on_broker_reset, rt.broker_ready
                ),
                name="broker-watch",
            )
        )
        rt.tasks.append(
            asyncio.create_task(
                run_relay(
                    rt.db,
                    producer,
                    batch_size=s.relay_batch_size,
                    poll_interval_s=s.relay_poll_interval_s,
                    max_backoff_s=s.relay_max_backoff_s,
                    crash_at=s.crash_at,
                ),
                name="outbox-relay",
            )
        )
        for loop in rt.spec.background:
            rt.tasks.append(asyncio.create_task(loop(rt), name=loop.__name__))
    for consumer in rt.spec.consumers:
        rt.tasks.append(
            asyncio.create_task(
                run_consumer(rt.db, consumer, producer, s, outcomes, rt.epoch),
                name=f"consumer-{consumer.name}",
            )
        )


async def start_runtime(
    spec: ServiceSpec,
    settings: KernelSettings,
    *,
    role: Role,
    registry: CollectorRegistry | None = None,
) -> Runtime:
    if settings.migrate_on_start:
        await migrate_async(spec.migrations_dir, settings.database_url)
    rt = Runtime(
        spec=spec,
        settings=settings,
        db=open_database(settings.database_url),
        registry=registry or CollectorRegistry(),
    )
    # Start-up chores (failing interrupted jobs) are the API's and the worker's: consumer pods
    # come and go with the lag and must not touch jobs another process may be running.
    if spec.on_start is not None and role != "consumers":
        await spec.on_start(rt.db)
    starter = _connect_broker(rt) if role == "api" else _run_worker_tasks(rt, role)
    rt.tasks.append(asyncio.create_task(starter, name="broker-start"))
    return rt


async def stop_runtime(rt: Runtime) -> None:
    for task in reversed(rt.tasks):
        task.cancel()
    await asyncio.gather(*rt.tasks, return_exceptions=True)
    if rt.producer is not None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(rt.producer.stop(), 5)
    if rt.admin is not None:
        with contextlib.suppress(Exception):
            await rt.admin.close()
    await rt.db.dispose()


def _health_router() -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        summary="The database and the broker are reachable",
        responses={503: {"description": "A dependency is unreachable"}},
    )
    async def readyz(request: Request) -> JSONResponse:
        rt: Runtime = request.app.state.runtime
        checks = {"database": "ok", "broker": "ok"}
        try:
            await asyncio.wait_for(rt.db.ping(), 2)
        except Exception:
            checks["database"] = "unreachable"
        if not await rt.broker_reachable():
            checks["broker"] = "unreachable"
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        failing = ", ".join(k for k, v in checks.items() if v != "ok")
        return problem(503, "Not ready", f"Unreachable: {failing}.", "not-ready")

    return router


def create_service_app(spec: ServiceSpec, settings: KernelSettings) -> FastAPI:
    configure_logging(spec.name, settings.log_level, settings.log_json)

    registry = CollectorRegistry()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        role: Role = "worker" if settings.run_worker_in_api else "api"
        rt = await start_runtime(spec, settings, role=role, registry=registry)
        app.state.runtime = rt
        app.state.db = rt.db
        try:
            yield
        finally:
            await stop_runtime(rt)

    app = FastAPI(
        title=spec.title, description=spec.description, version="0.1.0", lifespan=lifespan
    )
    app.state.settings = settings
    app.state.verifier = TokenVerifier(settings)
    install_error_handlers(app)
    install_observability(app, spec.name, registry)
    app.add_middleware(
        BodyLimit, default_bytes=settings.max_body_bytes, overrides=spec.large_bodies
    )
    app.include_router(_health_router())
    for router in spec.routers:
        app.include_router(router)
    return app


def create_ops_app(rt: Runtime) -> FastAPI:
    """A worker's operations endpoints: `/healthz`, `/readyz` (its database and the broker)
    and `/metrics` (its consumers' counters)."""
    app = FastAPI(title=f"{rt.spec.title} worker", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.runtime = rt
    install_error_handlers(app)
    install_metrics(app, rt.registry)
    app.include_router(_health_router())
    return app


class _OpsServer(uvicorn.Server):
    """uvicorn inside the worker's event loop. The worker owns SIGTERM and SIGINT and stops the
    server itself; uvicorn's own handlers would replace the worker's and re-raise the signal."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_worker(
    spec: ServiceSpec, settings: KernelSettings, role: WorkerRole = "worker"
) -> None:
    """The worker's tasks (or, for `consumers`, the consumers alone) until SIGTERM or SIGINT,
    with the operations endpoints on `worker_http_port` unless it is 0."""
    configure_logging(spec.name, settings.log_level, settings.log_json)
    rt = await start_runtime(spec, settings, role=role)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = (signal.SIGTERM, signal.SIGINT)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    ops: tuple[_OpsServer, asyncio.Task] | None = None
    if settings.worker_http_port:
        server = _OpsServer(
            uvicorn.Config(
                create_ops_app(rt),
                host=settings.host,
                port=settings.worker_http_port,
                log_config=None,
                access_log=False,
                timeout_graceful_shutdown=5,
            )
        )
        ops = (server, asyncio.create_task(server.serve(), name="ops-http"))
    try:
        await stop.wait()
    finally:
        if ops is not None:
            server, serving = ops
            server.should_exit = True
            # A server that failed to start has logged why; the runtime still stops cleanly.
            with contextlib.suppress(Exception):
                await serving
        await stop_runtime(rt)
        for sig in signals:
            loop.remove_signal_handler(sig)


async def republish(spec: ServiceSpec, settings: KernelSettings) -> int:
    await migrate_async(spec.migrations_dir, settings.database_url)
    rt = Runtime(spec=spec, settings=settings, db=open_database(settings.database_url))
    try:
        return await rt.queue_snapshot()
    finally:
        await rt.db.dispose()


def main(
    spec: ServiceSpec,
    settings_type: type[KernelSettings],
    app_factory: str,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(
        prog=f"python -m services.{spec.name}", description=spec.description
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=["serve", "worker", "consume", "migrate", "republish"],
        help="serve: the API (and, in the embedded mode, the worker); worker: the outbox "
        "relay, the consumers, the broker watch and the background loops (one per service); "
        "consume: the consumers only, for extra pods sharing the consumer groups; worker and "
        "consume serve /healthz, /readyz and /metrics on TASKFORCE_WORKER_HTTP_PORT when it is "
        "set; migrate: apply migrations; republish: queue a snapshot of every entity for the "
        "relay",
    )
    args = parser.parse_args(argv)
    settings = settings_type()
    if args.command == "serve":
        uvicorn.run(
            app_factory,
            factory=True,
            host=settings.host,
            port=settings.port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=10,
        )
    elif args.command in ("worker", "consume"):
        role: WorkerRole = "worker" if args.command == "worker" else "consumers"
        asyncio.run(run_worker(spec, settings, role))
    elif args.command == "migrate":
        asyncio.run(migrate_async(spec.migrations_dir, settings.database_url))
        print(f"{spec.name}: database migrated to head")
    else:
        count = asyncio.run(republish(spec, settings))
        print(f"{spec.name}: {count} events queued for republishing")
