"""The local hub stand-in publisher against real Azurite: nothing lost, order kept, bounded."""

from __future__ import annotations

import os

import orjson

from shared import wiring
from shared.events import standin
from shared.events.queue_publisher import QueueStandInPublisher


def drain(queue_name: str) -> list[standin.StandInEvent]:
    queue = wiring.current().queue_service.get_queue_client(queue_name)
    events: list[standin.StandInEvent] = []
    while batch := list(queue.receive_messages(messages_per_page=32, max_messages=32)):
        for message in batch:
            events += standin.decode(message.content)
            queue.delete_message(message)
    return events


def test_every_event_arrives_in_order_packed_into_few_messages(isolated: dict[str, str]) -> None:
    prefix = isolated["HUB_STANDIN_QUEUE_PREFIX"]
    publisher = QueueStandInPublisher(wiring.current().queue_service, prefix, capacity=10_000)
    filler = "x" * 2_000  # decision events are a few KB
    for i in range(3_000):
        publisher.publish("decisions", orjson.dumps({"EventId": f"e{i}", "pad": filler}), f"e{i}")
    assert publisher.flush(timeout=60)
    stats = publisher.stats()
    publisher.close()
    assert stats["sent"] == 3_000 and stats["dropped"] == 0 and stats["pending"] == 0
    queue = standin.queue_name(prefix, "decisions")
    events = drain(queue)
    assert [orjson.loads(e.body)["EventId"] for e in events] == [f"e{i}" for i in range(3_000)]
    assert events[0].partition_key == "e0"


def test_a_full_buffer_drops_and_counts(isolated: dict[str, str]) -> None:
    publisher = QueueStandInPublisher(
        wiring.current().queue_service, isolated["HUB_STANDIN_QUEUE_PREFIX"], capacity=10
    )
    publisher._closed = True  # stop draining so the buffer fills (the thread exits when idle)
    publisher._thread.join(timeout=5)
    for i in range(25):
        publisher.publish("rewards", b'{"EventId": "x"}', str(i))
    assert publisher.stats()["dropped"] == 15
    assert publisher.stats()["pending"] == 10


def test_large_batches_split_under_the_queue_message_limit() -> None:
    events = [
        standin.StandInEvent(
            orjson.dumps({"EventId": str(i), "r": os.urandom(300).hex()}), str(i), 0.0
        )
        for i in range(500)
    ]
    messages = standin.encode(events)
    assert len(messages) > 1
    assert all(len(m) <= standin.MAX_MESSAGE_CHARS for m in messages)
    assert [e for m in messages for e in standin.decode(m)] == events
