"""The emulator: moto's server in a process of its own, one per Emulator."""

from __future__ import annotations

import pytest

from sandbox.engines.emulator import Emulator, client


def test_two_emulators_at_once_keep_their_own_state():
    with Emulator() as first, Emulator() as second:
        client("kinesis", first).create_stream(StreamName="only-in-the-first", ShardCount=1)
        assert client("kinesis", second).list_streams()["StreamNames"] == []
        assert client("kinesis", first).list_streams()["StreamNames"] == ["only-in-the-first"]


def test_a_port_in_use_is_an_os_error_naming_the_address():
    with Emulator() as running:
        port = int(running.rsplit(":", 1)[1])
        with pytest.raises(OSError, match="in use"):
            Emulator(port=port).start()
