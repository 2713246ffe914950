"""Running Wendu's processes: `wendu up` (everything on one machine), `wendu api`, `wendu worker`.

The API (uvicorn) and the worker share one asyncio loop. SIGINT and SIGTERM are ours, not
uvicorn's, so one signal stops the API, then the worker (and any extra worker processes),
then the Temporal dev server, in that order, and the process exits 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from wendu.cli.common import UserError, ensure_data_dir, migrate
from wendu.devserver import DevServer, DevServerError, bind_problem, unreachable
from wendu.running import announce, forget
from wendu.settings import Settings, default_home

if TYPE_CHECKING:
    from wendu.cli.workerpool import WorkerPool

SHUTDOWN_SECONDS = 30.0
CONNECT_SECONDS = 10.0


@dataclass
class UpOptions:
    demo: bool
    host: str
    port: int
    temporal_port: int | None
    rules: Path | None
    workers: int = 1


class _Stopped(Exception):
    """A signal arrived while we were still starting."""


say = typer.echo  # progress lines, on stdout


def check_port(host: str, port: int) -> None:
    if problem := bind_problem(port, host):
        raise UserError(f"cannot listen on {host}:{port}: {problem} (pass --port)")


async def check_temporal(address: str, namespace: str) -> None:
    if problem := await unreachable(address, namespace, CONNECT_SECONDS):
        raise UserError(f"cannot reach Temporal at {address}: {problem}")


def _install_signals(stop: asyncio.Event, on_force: Callable[[], None]) -> None:
    loop = asyncio.get_running_loop()

    def handle() -> None:
        if stop.is_set():
            on_force()  # a second Ctrl-C: stop waiting for open requests
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, handle)


async def _unless_stopped(work: Awaitable[Any], stop: asyncio.Event) -> Any:
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    if task.done():
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task
    raise _Stopped


class _Services:
    """The API and/or the worker in this loop, supervised until `stop` is set."""

    def __init__(self, settings: Settings, api: tuple[str, int] | None, worker: bool,
                 quiet: bool, pool: WorkerPool | None = None) -> None:
        self.settings, self.api, self.worker, self.quiet = settings, api, worker, quiet
        self.server: Any = None
        self.client: Any = None  # one Temporal client for the API and the worker in this loop
        self.pool = pool  # more worker processes next to the in-process worker

    async def _supervise_pool(self, stop: asyncio.Event) -> None:
        assert self.pool is not None
        self.pool.start()
        while not stop.is_set():
            if problem := self.pool.check():
                say(problem)
                return
            await asyncio.sleep(0.5)

    def _make_server(self, host: str, port: int) -> Any:
        import uvicorn

        from wendu.api.app import create_app

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self):  # type: ignore[override]
                yield  # signals are handled by _install_signals

        level = "warning" if self.quiet else "info"
        # proxy_headers off: uvicorn would believe X-Forwarded-For from 127.0.0.1 by default;
        # the app believes it only from WENDU_TRUSTED_PROXIES (wendu.api.security).
        app = create_app(self.settings, temporal_client=self.client)
        return Server(uvicorn.Config(app, host=host, port=port,
                                     lifespan="on", log_level=level, access_log=not self.quiet,
                                     proxy_headers=False))

    async def _serve_api(self) -> None:
        # uvicorn exits the process when its startup fails; here that ends the API task only,
        # and `run` reports it after stopping the rest in order.
        with contextlib.suppress(SystemExit):
            await self.server.serve()

    def force(self) -> None:
        if self.server is not None:
            self.server.force_exit = True

    def _api_up(self) -> bool:
        return self.server is None or self.server.started

    async def run(self, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
        tasks: dict[str, asyncio.Task[Any]] = {}
        if self.api and self.worker:
            # Shared, a workflow the API starts is handed to this worker in the start's own
            # answer (eager start): no poll, one round trip less on the server per firing.
            # Not reachable now: each connects on its own, and says so, as before.
            from wendu.temporal import connect

            with contextlib.suppress(Exception):
                self.client = await asyncio.wait_for(connect(
                    self.settings.temporal_address, self.settings.temporal_namespace), 10)
        if self.api:
            self.server = self._make_server(*self.api)
            tasks["API"] = asyncio.create_task(self._serve_api())
        stopper = asyncio.create_task(stop.wait())
        ended: list[str] = []
        while not ended and not stop.is_set():
            if self.worker and "worker" not in tasks and self._api_up():
                # Only once the API is up: both migrate the database at start, and Alembic's
                # migration context is process-global, so two at once in one process collide.
                from wendu.worker import run_worker

                tasks["worker"] = asyncio.create_task(
                    run_worker(self.settings, stop, client=self.client))
                if self.pool is not None:
                    tasks["worker processes"] = asyncio.create_task(self._supervise_pool(stop))
                if on_ready:
                    on_ready()
            await asyncio.wait([*tasks.values(), stopper], timeout=0.1,
                               return_when=asyncio.FIRST_COMPLETED)
            ended = [name for name, task in tasks.items() if task.done()]
        stop.set()
        stopper.cancel()
        if self.server is not None:
            self.server.should_exit = True
        _, pending = await asyncio.wait(tasks.values(), timeout=SHUTDOWN_SECONDS)
        for task in pending:
            task.cancel()
        if self.pool is not None:
            await asyncio.to_thread(self.pool.stop, SHUTDOWN_SECONDS)
        if ended:
            task = tasks[ended[0]]
            error = None if task.cancelled() else task.exception()
            if error is not None:
                raise error  # not a user's mistake: keep the traceback
            what = "could not start" if not self._api_up() else "stopped"
            raise UserError(f"the {ended[0]} {what} (see the messages above)")


def _run(main: Callable[[asyncio.Event], Awaitable[None]]) -> None:
    async def wrapper() -> None:
        try:
            await main(asyncio.Event())
        except _Stopped:
            say("Stopped before Wendu was ready.")

    try:
        asyncio.run(wrapper())
    except DevServerError as exc:
        raise UserError(str(exc)) from None


def _logging(level: int, label: str | None = None) -> None:
    who = f"{label} " if label else ""
    logging.basicConfig(level=level,
                        format=f"%(asctime)s {who}%(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per plugin otherwise


def _need_temporal(settings: Settings, command: str) -> None:
    if not settings.temporal_address:
        raise UserError(
            f"WENDU_TEMPORAL_ADDRESS is not set: `wendu {command}` connects to a Temporal "
            "server (for everything on one machine, run `wendu up`)"
        )


def run_service(settings: Settings, command: str, api: tuple[str, int] | None = None, *,
                label: str | None = None, quiet: bool = False) -> None:
    """`wendu api` (with `api`=(host, port)) or `wendu worker`, against a Temporal server."""
    _need_temporal(settings, command)
    _logging(logging.WARNING if quiet else logging.INFO, label)

    async def main(stop: asyncio.Event) -> None:
        services = _Services(settings, api, worker=api is None, quiet=False)
        _install_signals(stop, services.force)
        if api:
            check_port(*api)
            if not settings.database_url:
                ensure_data_dir(settings.data_dir)
            migrate(settings)
        address, namespace = settings.temporal_address, settings.temporal_namespace
        await _unless_stopped(check_temporal(address, namespace), stop)
        await services.run(stop)

    _run(main)


def run_workers(settings: Settings, processes: int) -> None:
    """`wendu worker --processes N`: N worker processes under this one (see wendu.cli.workerpool
    for what happens when one of them ends by itself)."""
    from wendu.cli.workerpool import WorkerPool, supervise

    _need_temporal(settings, "worker")
    _logging(logging.INFO, "workers")
    migrate(settings)  # once here, rather than N processes racing to do it
    # One clear error here rather than N children failing alike.
    asyncio.run(check_temporal(settings.temporal_address, settings.temporal_namespace))
    problem = supervise(WorkerPool(processes), SHUTDOWN_SECONDS)
    if problem:
        raise UserError(problem)


def worker_env(settings: Settings, names: list[str]) -> dict[str, str]:
    """WENDU_* variables that give a child process these settings as this process has them."""
    env = {}
    for name in names:
        value = getattr(settings, name)
        env[f"WENDU_{name.upper()}"] = "" if value is None else str(value)
    return env


def rules_folder(settings: Settings, opts: UpOptions, data_dir: Path) -> Path | None:
    if opts.rules:
        folder = opts.rules
    elif opts.demo:
        from wendu.demo.library import library_copy

        folder = library_copy(data_dir)  # the console saves edits here, not into the package
    else:
        return settings.rules_dir
    if not folder.is_dir():
        raise UserError(f"rules folder {folder} does not exist")
    return folder.resolve()


def run_up(settings: Settings, opts: UpOptions) -> None:
    _logging(logging.WARNING)

    async def main(stop: asyncio.Event) -> None:
        services: _Services | None = None
        _install_signals(stop, lambda: services.force() if services else None)
        data_dir = settings.data_dir.expanduser().resolve()
        ensure_data_dir(data_dir)
        address = settings.temporal_address
        dev = None if address else DevServer(data_dir, opts.temporal_port,
                                             settings.temporal_namespace)
        if dev is not None:
            dev.lock()  # before anything else: is another `wendu up` using this data dir?
        say(f"Starting Wendu in {data_dir}")
        check_port(opts.host, opts.port)
        rules = rules_folder(settings, opts, data_dir)
        factory = migrate(settings.model_copy(update={"data_dir": data_dir}))
        say("  database migrated")
        token = None
        if opts.demo:
            from wendu.demo import company as demo

            loaded = demo.load(factory, data_dir)
            token = loaded.token
            say(f"  demo company loaded ({loaded.company.employees} employees)")
            demo.ensure_models(data_dir, say)
        if dev is None:
            await _unless_stopped(check_temporal(address, settings.temporal_namespace), stop)
            say(f"  connected to Temporal at {address}")
        else:
            say("  starting the Temporal dev server ...")
            await _unless_stopped(dev.start(), stop)
            address = dev.address
            say(f"  Temporal dev server ready at {address} (log: {dev.log_path})")
        # A dev server that dies under us (OOM killer, kill -9) is started again on its file;
        # the API keeps taking events meanwhile and the reconciler starts what waited.
        keeper = asyncio.create_task(dev.keep_running(say)) if dev is not None else None
        update: dict[str, Any] = {
            "data_dir": data_dir, "temporal_address": address, "rules_dir": rules}
        channels = None
        try:
            if opts.demo:
                channels = _demo_channels(data_dir)
                update.update(channels.settings())
            run_settings = settings.model_copy(update=update)
            pool = None
            if opts.workers > 1:
                from wendu.cli.workerpool import WorkerPool

                # The in-process worker is number 1; the others run the same settings.
                env = worker_env(run_settings, [k for k in update if k != "rules_dir"])
                pool = WorkerPool(opts.workers - 1, env=env, quiet=True, first_slot=2)
            services = _Services(run_settings, (opts.host, opts.port), worker=True, quiet=True,
                                 pool=pool)
            say("  starting the API and the worker ...")
            await services.run(stop, lambda: _banner(opts, data_dir, rules, dev, address, token,
                                                     run_settings.quiet_hours))
            say("Stopping ...")
        finally:
            forget(data_dir)
            if keeper is not None:
                keeper.cancel()  # before the server is stopped, or it would start it again
            if channels is not None:
                channels.stop()
            if dev is not None:
                await dev.astop()
        say("Wendu stopped.")

    _run(main)


def _demo_channels(data_dir: Path) -> Any:
    """The demo's WeCom sandbox and SMTP sink, so its messages really go out over both."""
    from wendu.demo import company as demo
    from wendu.demo.channels import DemoChannels

    channels = DemoChannels.start(data_dir, demo.wecom_userids())
    say(f"  WeCom sandbox at {channels.wecom.url}, SMTP sink at {channels.smtp_address}")
    return channels


def _banner(opts: UpOptions, data_dir: Path, rules: Path | None, dev: DevServer | None,
            address: str, token: str | None, quiet_hours: str) -> None:
    host = "127.0.0.1" if opts.host in ("0.0.0.0", "::", "") else opts.host
    url = f"http://{host}:{opts.port}"
    announce(data_dir, url, quiet_hours)  # `wendu demo` finds the API (wendu/running.py)
    temporal = f"Temporal UI  {dev.ui_url}" if dev else f"Temporal     {address}"
    lines = ["", "Wendu is running. Press Ctrl-C to stop.",
             f"  Console      {url}/console",
             f"  API          {url}   (docs: {url}/docs)", f"  {temporal}",
             f"  Data dir     {data_dir}",
             *([f"  Workers      {opts.workers} processes"] if opts.workers > 1 else []),
             f"  Rules        {rules or '(as stored; pass --rules DIR to load a folder)'}"]
    if token:
        command = "wendu demo scenario overtime"
        outbox = "wendu demo outbox"
        if data_dir != default_home().expanduser().resolve():
            command += f" --data-dir {data_dir}"
            outbox += f" --data-dir {data_dir}"
        lines += ["", f"Demo token (all scopes; also in {data_dir / 'demo-token'}):",
                  f"  {token}", "",
                  "Play the rule library from another terminal (`wendu demo scenario` lists "
                  "the scenarios), e.g. 张伟's (E1004) late week:",
                  f"  {command}", "",
                  "Console demo accounts: sarah / wendu-demo-hr (HR admin), "
                  "lina / wendu-demo-manager (张伟's manager)", "",
                  "What went out over the local WeCom sandbox and SMTP sink "
                  f"(also {data_dir / 'outbox.jsonl'}):", f"  {outbox}"]
    say("\n".join(lines) + "\n")
