"""Every producer's events into routing: durable consumers ``notifications-registry``,
``notifications-bargaining`` and ``notifications-disputes``.

The kernel's consumer loop applies each event at most once (its inbox record is written in
the same transaction as the deliveries, e-mails and inbox messages routing adds) and acks
only after the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from nats.js.errors import BadRequestError, NotFoundError
from sqlalchemy.ext.asyncio import AsyncSession

from kernel.bus import StreamSpec
from kernel.consumer import Subscription
from kernel.db import utcnow
from kernel.events import CloudEvent, stream_name, stream_subjects
from services.notifications.routing.service import route_event
from services.notifications.settings import NotificationsSettings

if TYPE_CHECKING:
    from kernel.app import PlatformState

log = structlog.get_logger(__name__)

PRODUCERS = ("registry", "bargaining", "disputes")


def intake_subscriptions(settings: NotificationsSettings,
                         clock: Callable[[], datetime] = utcnow) -> list[Subscription]:
    async def on_event(session: AsyncSession, event: CloudEvent) -> None:
        await route_event(session, event, public_base_url=settings.public_base_url, now=clock())

    return [Subscription(consumer="notifications", producer=producer, handler=on_event) for producer in PRODUCERS]


class ProducerStreams:
    """Creates a producer's stream if it does not exist yet, so this consumer can bind before
    that producer first starts (in production ``deploy.streams`` has declared them all).

    Only ever creates, with the producer's own spec; an existing stream is left as its
    producer configured it, and the producer's relay applies its settings when it starts.
    """

    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings
        self.__name__ = "producer-streams"

    async def __call__(self, state: PlatformState) -> None:
        delay = 0.2
        while True:
            try:
                js = state.bus.jetstream()
                for producer in PRODUCERS:
                    try:
                        await js.stream_info(stream_name(producer))
                    except NotFoundError:
                        spec = StreamSpec(name=stream_name(producer), subjects=stream_subjects(producer),
                                          duplicate_window_seconds=self.settings.stream_duplicate_window_seconds,
                                          replicas=self.settings.stream_replicas,
                                          description=f"Events produced by the {producer} service")
                        with contextlib.suppress(BadRequestError):  # its producer created it meanwhile
                            await js.add_stream(spec.config())
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.info("producer streams not declared yet", error=repr(exc), retry_in=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
