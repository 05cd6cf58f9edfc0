"""The local hub stand-in's wire format (shared/events/standin.py): format 2 round-trips, format 1
messages (written before) are still read, and big batches split under the message limit in order."""

from __future__ import annotations

import base64
import random
import zlib

import orjson
import pytest

from shared.events import standin


def events(count: int, pad: int = 50) -> list[standin.StandInEvent]:
    rng = random.Random(3)
    return [
        standin.StandInEvent(
            orjson.dumps({"EventId": f"e{i}", "pad": "".join(rng.choices("abcdef", k=pad))}),
            f"e{i}",
            1_700_000_000.0 + i / 7,
        )
        for i in range(count)
    ]


def test_format_2_round_trips_and_is_plain_deflate() -> None:
    sent = events(40)
    (text,) = standin.encode(sent)
    assert standin.decode(text) == sent
    head = zlib.decompress(base64.b64decode(text)).split(b"\n")[0]  # zlib reads ISA-L's output
    assert orjson.loads(head)["v"] == 2


def test_format_1_messages_are_still_read() -> None:
    payload = {"v": 1, "e": [["k1", 1.5, '{"EventId":"k1"}'], ["k2", 2.5, '{"EventId":"k2"}']]}
    text = base64.b64encode(zlib.compress(orjson.dumps(payload), 1)).decode()
    assert standin.decode(text) == [
        standin.StandInEvent(b'{"EventId":"k1"}', "k1", 1.5),
        standin.StandInEvent(b'{"EventId":"k2"}', "k2", 2.5),
    ]


def test_bodies_with_newlines_survive() -> None:
    sent = [standin.StandInEvent(b"line one\nline two", "k", 3.0), *events(2)]
    (text,) = standin.encode(sent)
    assert standin.decode(text) == sent


def test_a_big_batch_splits_under_the_limit_in_order() -> None:
    sent = events(3_000, pad=400)  # random text compresses badly: several messages
    texts = standin.encode(sent)
    assert len(texts) > 1
    assert all(len(t) <= standin.MAX_MESSAGE_CHARS for t in texts)
    assert [e for t in texts for e in standin.decode(t)] == sent


def test_unknown_formats_are_refused() -> None:
    text = base64.b64encode(zlib.compress(b'{"v":9}')).decode()
    with pytest.raises(ValueError, match="unknown stand-in format"):
        standin.decode(text)
