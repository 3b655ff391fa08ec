"""One thread stores every accepted delivery; the event loop waits for it without a thread of its own.

Why (measured with py-spy during a 500-delivery burst; see the closing note of issue 14): with one
thread-pool thread per delivery, twenty threads queued on the queue's lock, each delivery cost the
event loop two thread hand-offs, and every delivery was its own SQLite commit with an fsync, whose
tail on a busy disk is long. So the loop hands each delivery to this single writer and awaits a
future; the writer takes everything that arrived since its last commit, stores it as one batch
(the local queue: one transaction, one fsync), and wakes the loop once for the whole batch.
"200 means stored" holds: a future resolves only after the queue's `submit_many` returned (or
failed, which the intake answers with 503).
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class SerialWriter(Generic[T, R]):
    """Runs `store(batch)` on one thread for what was submitted meanwhile; `submit` awaits its result.

    `store` answers every item of the batch, in order; if it raises, every item gets the error.
    """

    def __init__(
        self, store: Callable[[list[T]], list[R]], *, name: str = "gonogo-intake-writer", max_batch: int = 256
    ) -> None:
        self._store = store
        self._max_batch = max_batch
        # Items with their future and loop; None asks the thread to stop.
        self._inbox: queue.SimpleQueue[tuple[T, asyncio.Future[R], asyncio.AbstractEventLoop] | None]
        self._inbox = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Store what was handed over already, then end the thread."""
        if self._thread.is_alive():
            self._inbox.put(None)
            self._thread.join(timeout)

    async def submit(self, item: T) -> R:
        if not self._thread.is_alive():  # not started, or already stopped: store it here and now
            return (await asyncio.to_thread(self._store, [item]))[0]
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._inbox.put((item, future, loop))
        return await future

    def _run(self) -> None:
        while True:
            batch = [self._inbox.get()]
            while len(batch) < self._max_batch:  # everything that arrived meanwhile: one commit
                try:
                    batch.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            entries = [entry for entry in batch if entry is not None]
            if entries:
                self._store_batch(entries)
            if len(entries) < len(batch):
                return

    def _store_batch(self, entries: list[tuple[T, asyncio.Future[R], asyncio.AbstractEventLoop]]) -> None:
        try:
            results: list[R] | None = self._store([item for item, _, _ in entries])
            error: BaseException | None = None
        except Exception as exc:  # handed to every awaiting request, which answers for it
            results, error = None, exc
        done: dict[asyncio.AbstractEventLoop, list[_Outcome[R]]] = {}
        for index, (_, future, loop) in enumerate(entries):
            result = results[index] if results is not None else None
            done.setdefault(loop, []).append((future, result, error))
        for loop, outcomes in done.items():  # one wake-up of each loop for the whole batch
            loop.call_soon_threadsafe(_settle, outcomes)


_Outcome = tuple[asyncio.Future[R], R | None, BaseException | None]


def _settle(outcomes: list[_Outcome[R]]) -> None:
    for future, result, error in outcomes:
        if future.cancelled():  # the client went away; the delivery is stored all the same
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]
