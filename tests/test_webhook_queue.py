"""The queue contract, held against both backends: the local SQLite queue and real Redis.

Durable before acknowledged, deduplicated atomically, handed to one worker at a time, kept until
completed or dead-lettered, and back again when its worker died.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest
from broken_storage import Disk, cuttable_redis, storage_on
from webhook_helpers import fresh_redis_prefix, wait_until

from gonogo.core.errors import ConfigurationError
from gonogo.webhook.queue import Job, QueueUnavailable, WorkQueue, dead_letters, open_queue
from gonogo.webhook.queue.local import LocalQueue
from gonogo.webhook.queue.redis import RedisQueue
from gonogo.webhook.settings import QueueSettings

LEASE = 0.5
OVERLAP_WINDOW = 0.5  # a second holder let in by a broken lock arrives well within this


def job(n: int = 1, *, delivery: str | None = None, key: str | None = None) -> Job:
    return Job(
        delivery or f"delivery-{n}", key or f"BID-{n}", str(10000 + n), "jira:issue_created", time.time()
    )


@pytest.fixture(params=["local", "redis"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QueueSettings]:
    if request.param == "local":
        yield QueueSettings(kind="local", path=tmp_path / "queue", lease_seconds=LEASE)
        return
    with fresh_redis_prefix() as prefix:
        yield QueueSettings(kind="redis", redis_prefix=prefix, lease_seconds=LEASE)


@pytest.fixture
def queue(settings: QueueSettings) -> Iterator[WorkQueue]:
    opened = open_queue(settings)
    yield opened
    opened.close()


def test_a_submitted_job_is_claimed_once_and_gone_when_completed(queue: WorkQueue) -> None:
    assert queue.submit(job(1), dedupe=True)
    assert queue.depth() == 1
    claimed = queue.claim(1)
    assert claimed is not None
    assert (claimed.job.key, claimed.job.issue_id) == ("BID-1", "10001")
    assert queue.claim(0.05) is None  # not handed to anyone else meanwhile
    assert queue.depth() == 1  # still held until acknowledged
    queue.complete(claimed)
    assert queue.depth() == 0
    assert queue.claim(0.05) is None


def test_a_delivery_id_is_accepted_once_even_by_concurrent_copies(queue: WorkQueue) -> None:
    with ThreadPoolExecutor(10) as pool:
        stored = list(pool.map(lambda _: queue.submit(job(1), dedupe=True), range(10)))
    assert stored.count(True) == 1
    assert not queue.submit(job(1), dedupe=True)
    assert queue.submit(job(1), dedupe=False)  # no usable delivery id: no deduplication
    assert queue.depth() == 2


def test_work_held_by_a_worker_that_died_is_handed_out_again(settings: QueueSettings) -> None:
    crashed = open_queue(settings)
    crashed.submit(job(1), dedupe=True)
    crashed.submit(job(2), dedupe=True)
    held = crashed.claim(1)
    assert held is not None
    crashed.close()  # gone without acknowledging: no more lease renewals, no folder lock
    survivor = open_queue(settings)
    try:
        keys: set[str] = set()
        deadline = time.monotonic() + 5
        while len(keys) < 2 and time.monotonic() < deadline:
            claimed = survivor.claim(0.2)
            if claimed is not None:
                keys.add(claimed.job.key)
                survivor.complete(claimed)
        assert keys == {"BID-1", "BID-2"}
        assert survivor.depth() == 0
    finally:
        survivor.close()


def test_dead_letters_keep_the_job_and_the_reason_and_are_listed_by_a_reader(
    queue: WorkQueue, settings: QueueSettings
) -> None:
    queue.submit(job(7), dedupe=True)
    claimed = queue.claim(1)
    assert claimed is not None
    queue.dead_letter(claimed, reason="BID-7 does not exist (404)", attempts=3)
    assert queue.depth() == 0
    assert queue.claim(0.05) is None
    (letter,) = dead_letters(settings)  # as a reader beside the running queue
    assert (letter.job.key, letter.reason, letter.attempts) == ("BID-7", "BID-7 does not exist (404)", 3)
    assert letter.failed_at > 0


def test_a_released_job_is_handed_out_again(queue: WorkQueue) -> None:
    queue.submit(job(3), dedupe=True)
    claimed = queue.claim(1)
    assert claimed is not None
    queue.release(claimed)
    deadline = time.monotonic() + 5
    again = None
    while again is None and time.monotonic() < deadline:
        again = queue.claim(0.2)
    assert again is not None
    assert again.job.key == "BID-3"
    queue.complete(again)


class FakeClock:
    """The queue's clock for back-offs, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_job_stored_for_a_retry_comes_back_only_when_due_with_its_attempts(settings: QueueSettings) -> None:
    """Issue 13, case 2: a back-off is kept by the queue, not slept through by a worker."""
    clock = FakeClock()
    queue = open_queue(settings, clock=clock)
    queue.submit(job(4), dedupe=True)
    claimed = queue.claim(1)
    assert claimed is not None
    queue.retry_later(claimed, replace(claimed.job, attempts=2, not_before=clock.now + 60))
    assert queue.claim(0.01) is None  # not due yet: nobody gets it
    queue.submit(job(5), dedupe=True)
    other = queue.claim(1)  # work behind it is not held up
    assert other is not None
    assert other.job.key == "BID-5"
    queue.complete(other)
    assert queue.depth() == 1
    clock.now += 59
    assert queue.claim(0.01) is None  # still a second early
    clock.now += 1
    again = queue.claim(5)  # due now
    assert again is not None
    assert (again.job.key, again.job.attempts) == ("BID-4", 2)
    queue.complete(again)
    assert queue.depth() == 0
    queue.close()


def test_ticket_locks_serialise_one_ticket_and_leave_others_alone(queue: WorkQueue) -> None:
    inside: dict[str, int] = {}
    most: dict[str, int] = {}
    guard = threading.Lock()
    # The first holder of BID-1's lock waits inside it for a second holder, who gets in only if the
    # lock is broken; once the wait times out the barrier is broken and later holders pass at once.
    second_holder = threading.Barrier(2)

    def work(names: tuple[str, ...]) -> None:
        with queue.ticket_lock(names):
            with guard:
                for name in names:
                    inside[name] = inside.get(name, 0) + 1
                    most[name] = max(most.get(name, 0), inside[name])
            if "key:BID-1" in names:
                with contextlib.suppress(threading.BrokenBarrierError):
                    second_holder.wait(OVERLAP_WINDOW)
            with guard:
                for name in names:
                    inside[name] -= 1

    same_ticket = [job(1), replace(job(1), issue_id=None), job(1), job(1)]
    others = [job(n) for n in range(2, 6)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda j: work(j.lock_names()), same_ticket + others))
    assert most["key:BID-1"] == 1  # never two checks of BID-1 at once, with or without its id
    # Another ticket's lock is taken while BID-1's is held: a lock is per ticket, not global.
    other_done = threading.Event()

    def other_ticket() -> None:
        with queue.ticket_lock(job(2).lock_names()):
            other_done.set()

    with queue.ticket_lock(job(1).lock_names()):
        helper = threading.Thread(target=other_ticket)
        helper.start()
        assert other_done.wait(10), "BID-2 waited for BID-1's lock"
    helper.join(10)


def test_the_local_folder_belongs_to_one_process(tmp_path: Path) -> None:
    settings = QueueSettings(kind="local", path=tmp_path / "queue")
    first = open_queue(settings)
    try:
        with pytest.raises(ConfigurationError, match="in use by another gonogo serve"):
            open_queue(settings)
        assert dead_letters(settings) == []  # listing dead letters beside it is fine
    finally:
        first.close()
    open_queue(settings).close()  # free again once the owner is gone


@pytest.fixture
def breakable(settings: QueueSettings) -> Iterator[tuple[WorkQueue, Callable[[], None]]]:
    """A queue and what breaks its storage: SQLite says the disk is full, or Redis is unreachable."""
    if settings.kind == "local":
        disk = Disk()
        local = LocalQueue(settings, storage=storage_on(disk))
        yield local, disk.fill
        disk.clear()
        local.close()
        return
    client, cut = cuttable_redis()
    remote = RedisQueue(settings, client=client)
    yield remote, cut
    remote.close()


def test_storage_failures_are_queue_unavailable_never_the_backends_own_error(
    breakable: tuple[WorkQueue, Callable[[], None]],
) -> None:
    """A worker treats QueueUnavailable as "the queue is in trouble": no backend error may leak past it."""
    queue, break_storage = breakable
    queue.submit(job(1), dedupe=True)
    claimed = queue.claim(1)
    assert claimed is not None
    break_storage()
    with pytest.raises(QueueUnavailable):
        queue.claim(0.05)
    with pytest.raises(QueueUnavailable):
        queue.complete(claimed)
    with pytest.raises(QueueUnavailable):
        queue.dead_letter(claimed, reason="x", attempts=1)
    if isinstance(queue, LocalQueue):
        with pytest.raises(QueueUnavailable):
            queue.release(claimed)
    else:
        queue.release(claimed)  # Redis logs it: the entry comes free when its lease runs out


def queue_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if ".db" in path.name)


def test_the_local_queue_gives_its_space_back_once_a_burst_has_drained(tmp_path: Path) -> None:
    settings = QueueSettings(kind="local", path=tmp_path / "queue")
    queue = LocalQueue(settings)
    padding = "x" * 2000
    burst = [(job(n, delivery=f"d-{n}-{padding}"), False) for n in range(1500)]
    try:
        assert all(queue.submit(each, dedupe=dedupe) for each, dedupe in burst)
        peak = queue_bytes(settings.path)
        for _ in burst:
            claimed = queue.claim(5)
            assert claimed is not None
            queue.complete(claimed)
            peak = max(peak, queue_bytes(settings.path))
        assert queue.depth() == 0
        assert peak > 3_000_000  # the burst's 3 MB of jobs were on disk
        # The queue tidies up once it has run empty.
        wait_until(
            lambda: queue_bytes(settings.path) < peak / 10, timeout=20, what="the space to be given back"
        )
    finally:
        queue.close()


def remembered(folder: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(folder / "deliveries.db")) as db:
        return [row[0] for row in db.execute("SELECT delivery FROM seen ORDER BY delivery")]


def test_delivery_ids_are_pruned_once_the_dedupe_window_has_passed(tmp_path: Path) -> None:
    now = [1_000_000.0]
    settings = QueueSettings(kind="local", path=tmp_path / "queue", dedupe_seconds=3600)
    queue = LocalQueue(settings, clock=lambda: now[0])

    def store_and_finish(delivery: str) -> None:
        assert queue.submit(job(1, delivery=delivery), dedupe=True)
        claimed = queue.claim(5)
        assert claimed is not None
        queue.complete(claimed)  # the queue is empty again: it tidies up

    try:
        store_and_finish("first")
        wait_until(lambda: remembered(settings.path) == ["first"], timeout=10, what="first remembered")
        now[0] += 3601  # the dedupe window of "first" passes
        store_and_finish("second")
        wait_until(lambda: remembered(settings.path) == ["second"], timeout=10, what="first forgotten")
    finally:
        queue.close()
