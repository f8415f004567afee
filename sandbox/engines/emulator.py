"""moto's server on loopback, and boto3 clients pointed at it.

    with Emulator() as endpoint_url:
        kinesis = client("kinesis", endpoint_url)
        clients = EmulatorClients(endpoint_url)   # one client per service, as attributes: clients.sqs

Each emulator is a process of its own, with moto's state in it: it starts empty, and any number can run at once.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import socket
import threading
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_REGION = "us-east-1"
# moto accepts any credentials; real-looking dummies keep botocore from searching for others.
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
DUMMY_ACCOUNT = "123456789012"  # moto's default account id
START_TIMEOUT_SECONDS = 60.0  # a fresh interpreter importing moto, on a loaded machine


def client(service: str, endpoint_url: str, region: str = DEFAULT_REGION, **config: Any) -> Any:
    """A boto3 client for `service` at the emulator, with dummy credentials."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint_url,
        region_name=region,
        config=Config(retries={"mode": "standard"}, **config),
        **DUMMY_CREDENTIALS,
    )


class EmulatorClients:
    """One boto3 client per service at the emulator, made on first use: `clients.kinesis`, `clients.awslambda`."""

    def __init__(self, endpoint_url: str, region: str = DEFAULT_REGION):
        self.endpoint_url = endpoint_url
        self.region = region
        self._session = boto3.session.Session(region_name=region, **DUMMY_CREDENTIALS)
        self._clients: dict[str, Any] = {}
        self._config = Config(retries={"max_attempts": 3, "mode": "standard"})

    def __getattr__(self, service: str) -> Any:
        if service.startswith("_"):
            raise AttributeError(service)
        if service not in self._clients:
            api = "lambda" if service == "awslambda" else service  # `lambda` is a keyword
            self._clients[service] = self._session.client(api, endpoint_url=self.endpoint_url, config=self._config)
        return self._clients[service]


def _serialized(app: Any) -> Any:
    """The WSGI app behind one lock: moto's backends are not thread-safe (a transaction copies items another
    request is changing), while AWS's services are. Connections stay concurrent."""
    lock = threading.Lock()

    def handle(environ: dict, start_response: Any) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    return handle


def _serve(conn: Connection, host: str, port: int) -> None:
    """The emulator's process: moto's server until the parent says stop or goes away."""
    # Ctrl-C reaches the whole process group: the parent decides when the emulator stops.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from sandbox.engines import moto_transactions

    moto_transactions.install()
    # The server's per-request access log would drown the demo's output.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    app = _serialized(DomainDispatcherApplication(create_backend_app))
    try:
        # Bound here, so a port in use is an OSError to report (werkzeug would print and exit).
        listening = socket.create_server((host, port))
    except OSError as error:
        conn.send(("error", error.errno, error.strerror or str(error)))
        return
    bound_port = listening.getsockname()[1]
    server = make_server(
        host, bound_port, app, threaded=True, request_handler=MotoRequestHandler, fd=listening.fileno()
    )
    threading.Thread(target=server.serve_forever, daemon=True, name="emulator").start()
    conn.send(("ready", bound_port))
    with contextlib.suppress(EOFError, OSError):
        conn.recv()
    server.shutdown()


class Emulator:
    """moto's server on 127.0.0.1, on a free port, one request at a time, in a process of its own.

    Its own process gives moto an interpreter lock of its own: the sandbox's engines, which read streams and
    convert records in the caller's process, then run beside it instead of taking turns. It also starts empty,
    as a new account would be, and leaves nothing behind in the caller's process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._process: Any = None
        self._conn: Connection | None = None
        self.endpoint_url: str | None = None

    def start(self) -> str:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, self._host, self._port), daemon=True)
        self._process.start()
        child.close()
        if not self._conn.poll(START_TIMEOUT_SECONDS):
            self.stop()
            raise RuntimeError(f"the emulator did not start within {START_TIMEOUT_SECONDS:.0f} s")
        try:
            reply = self._conn.recv()
        except EOFError:
            code = self._process.exitcode
            self.stop()
            raise RuntimeError(f"the emulator's process exited with code {code} before it listened") from None
        if reply[0] == "error":
            self.stop()
            raise OSError(reply[1], reply[2])
        self.endpoint_url = f"http://{self._host}:{reply[1]}"
        return self.endpoint_url

    def stop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(OSError):
                self._conn.send("stop")
            self._conn.close()
            self._conn = None
        if self._process is not None:
            self._process.join(timeout=5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None
        self.endpoint_url = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
