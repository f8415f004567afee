"""moto's server on loopback, and boto3 clients pointed at it.

    with Emulator() as endpoint_url:
        kinesis = client("kinesis", endpoint_url)
        clients = EmulatorClients(endpoint_url)   # one client per service, as attributes: clients.sqs

moto keeps its state per process, not per server: starting an emulator empties it, so two emulators
in one process must not be used at the same time.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from types import TracebackType
from typing import Any

import boto3
from botocore.config import Config

DEFAULT_REGION = "us-east-1"
# moto accepts any credentials; real-looking dummies keep botocore from searching for others.
DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
DUMMY_ACCOUNT = "123456789012"  # moto's default account id


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
    """The WSGI app behind one lock: moto's backends are not thread-safe (a transaction deep-copies a
    table another request is changing), while AWS's services are. Connections stay concurrent."""
    lock = threading.Lock()

    def handle(environ: dict, start_response: Any) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    return handle


class Emulator:
    """Start and stop moto's server on 127.0.0.1, on a free port, one request at a time."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: Any = None
        self.endpoint_url: str | None = None

    def start(self) -> str:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from moto.server import ThreadedMotoServer
        from werkzeug.serving import make_server

        class SerializedMotoServer(ThreadedMotoServer):
            def _server_entry(self) -> None:
                app = _serialized(DomainDispatcherApplication(create_backend_app))
                self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
                self._server_ready_event.set()
                self._server.serve_forever()

        # The server's per-request access log would drown the demo's output.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = SerializedMotoServer(ip_address=self._host, port=self._port, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # moto keeps its state per process: a new emulator starts empty, as a new account would be.
        urllib.request.urlopen(urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")).close()
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
            self.endpoint_url = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
