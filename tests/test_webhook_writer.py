"""The intake's single writer: batches what arrives while it stores, answers each delivery its own."""

from __future__ import annotations

import asyncio
import threading

import pytest

from gonogo.webhook.writer import SerialWriter


def test_deliveries_arriving_during_a_store_are_stored_together_in_order() -> None:
    first_store_started = threading.Event()
    let_it_finish = threading.Event()
    batches: list[list[int]] = []

    def store(batch: list[int]) -> list[str]:
        batches.append(batch)
        if len(batches) == 1:
            first_store_started.set()
            let_it_finish.wait(10)
        return [f"stored {item}" for item in batch]

    writer: SerialWriter[int, str] = SerialWriter(store)
    writer.start()

    async def burst() -> list[str]:
        first = asyncio.ensure_future(writer.submit(0))
        await asyncio.to_thread(first_store_started.wait, 10)
        rest = [asyncio.ensure_future(writer.submit(n)) for n in range(1, 20)]
        # The loop runs callbacks first in, first out: once this one has run, every submit above
        # has taken its first step and handed its item to the writer.
        handed_over = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(handed_over.set_result, None)
        await handed_over
        let_it_finish.set()
        return await asyncio.gather(first, *rest)

    try:
        answers = asyncio.run(burst())
    finally:
        writer.stop()
    assert answers == [f"stored {n}" for n in range(20)]
    assert batches == [[0], list(range(1, 20))]  # one commit for everything that waited


def test_a_failing_store_fails_every_delivery_of_its_batch_and_the_writer_goes_on() -> None:
    calls = []

    def store(batch: list[int]) -> list[int]:
        calls.append(batch)
        if len(calls) == 1:
            raise OSError("disk full")
        return batch

    writer: SerialWriter[int, int] = SerialWriter(store)
    writer.start()

    async def two() -> int:
        with pytest.raises(OSError, match="disk full"):
            await writer.submit(1)
        return await writer.submit(2)

    try:
        assert asyncio.run(two()) == 2
    finally:
        writer.stop()


def test_a_writer_that_is_not_running_stores_in_place() -> None:
    writer: SerialWriter[int, int] = SerialWriter(lambda batch: [n * 2 for n in batch])
    assert asyncio.run(writer.submit(21)) == 42
