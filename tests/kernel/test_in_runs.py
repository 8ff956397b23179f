"""kernel.consumer.in_runs: runs of one type in one call, everything in order (a plain rule, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

from kernel.consumer import in_runs
from kernel.events import CloudEvent


def _event(n: int, kind: str) -> CloudEvent:
    return CloudEvent(id=f"e{n}", source="/sample", type=f"kz.ntc.sample.{kind}.v1", subject=None,
                      time=datetime(2026, 1, 1, tzinfo=UTC), data={"audience": []})


async def test_runs_go_together_and_the_order_holds():
    calls: list[tuple[str, list[str]]] = []

    async def one(session, event):
        calls.append(("one", [event.id]))

    async def registered(session, events):
        calls.append(("registered", [e.id for e in events]))

    async def renamed(session, events):
        calls.append(("renamed", [e.id for e in events]))

    apply = in_runs(one, {"kz.ntc.sample.registered.v1": registered, "kz.ntc.sample.renamed.v1": renamed})
    kinds = ["registered", "registered", "lapsed", "registered", "renamed", "renamed", "registered", "lapsed"]
    await apply(None, [_event(n, kind) for n, kind in enumerate(kinds)])
    assert calls == [("registered", ["e0", "e1"]), ("one", ["e2"]), ("registered", ["e3"]),
                     ("renamed", ["e4", "e5"]), ("registered", ["e6"]), ("one", ["e7"])]
