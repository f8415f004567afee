"""The background loop the event source mapping and Firehose delivery share.

Each engine is driven by `poll_once()`; `start()` runs it in a thread until `close()`. A failing poll
(the emulator refusing a call, a connection reset) is kept in `last_error` and retried after a pause,
as AWS's pollers do, instead of silently ending the thread.

`polls_completed` counts the polls that finished: a caller that notes it, then sees it two higher, knows a whole
poll began after its note, so whatever it put on the stream before the note has been read.
"""

from __future__ import annotations

import logging
import threading

ERROR_BACKOFF_SECONDS = 1.0
log = logging.getLogger(__name__)


class PollingEngine:
    """Subclasses implement `poll_once() -> bool` (True if it did work) and may extend `close()`."""

    thread_name = "poller"

    def __init__(self, poll_interval: float) -> None:
        self._poll_interval = poll_interval
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.last_error: BaseException | None = None
        self.polls_completed = 0

    def has_polled_since(self, mark: int) -> bool:
        """Whether a whole poll began and ended after `polls_completed` was `mark`."""
        return self.polls_completed >= mark + 2

    def poll_once(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        """Poll in a background thread until `close()`."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, daemon=True, name=self.thread_name)
            self._thread.start()

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __enter__(self):
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                did_work = self.poll_once()
            except Exception as error:  # noqa: BLE001 - any failure of one poll; the next poll retries
                self.last_error = error
                log.warning("%s: poll failed, retrying: %s", self.thread_name, error)
                self._stopping.wait(ERROR_BACKOFF_SECONDS)
                continue
            self.polls_completed += 1
            if not did_work:
                self._stopping.wait(self._poll_interval)
