"""A worked webhook receiver for an employer's or a union's system: verify, de-duplicate, apply once.

The platform's notifications service sends the events that concern an organisation as Standard
Webhooks (https://www.standardwebhooks.com/): a JSON body (the CloudEvent, with a ``link`` back
through the gateway) and three headers, ``webhook-id`` (the event's id), ``webhook-timestamp`` and
``webhook-signature``. Delivery is *at least once*: if the platform stops after this receiver
answered but before it recorded the answer, it sends the same delivery again, with the same
``webhook-id``. This receiver therefore

1. verifies the signature with ``standardwebhooks`` (one secret, or several while a secret is
   being rotated) and refuses anything else, including a timestamp more than 5 minutes off;
2. records the ``webhook-id`` in the same SQLite transaction as its own effect, so each event is
   applied once, however often it arrives and wherever the receiver stops;
3. answers at once: the platform waits 10 seconds per attempt.

Run it (TLS and the public name come from a reverse proxy in front of it):

    .venv/bin/python docs/examples/webhook_receiver.py --port 8085 --database webhooks.sqlite3 \\
        --secret whsec_...

``--secret`` may be given twice while a secret is being rotated. A command line can be read by
other users of the machine (``ps``), so the secrets may instead be given in the environment
variable ``NTC_WEBHOOK_SECRETS``, separated by spaces or commas.

Registering it, through the gateway, with the organisation's API key:

    POST /api/v1/notifications/webhook-endpoints
    Authorization: Bearer ntc_...
    {"url": "https://erp.example.kz/ntc/webhooks", "description": "ERP"}

    201 {"id": "<endpoint id>", "secret": "whsec_...", ...}

The secret is in that answer only: keep it, and start the receiver with it. Then say which events
to send there (``kz.ntc.>`` is everything that concerns the organisation; ``kz.ntc.disputes.>``
one producer's events):

    POST /api/v1/notifications/subscriptions
    {"pattern": "kz.ntc.>", "channel": "webhook", "endpoint_id": "<endpoint id>"}

``POST /api/v1/notifications/webhook-endpoints/<endpoint id>/rotate-secret`` gives a new secret;
for 24 hours both the new and the old one sign every delivery, so configure the new one next to the
old, then drop the old. The delivery log is ``GET .../webhook-endpoints/<endpoint id>/deliveries``.

What each answer means to the platform:

- **2xx**: delivered; never sent again (except by a person pressing "redeliver", which carries the
  same ``webhook-id`` and is therefore answered here without applying anything twice).
- **400 / 401**: refused (malformed, or not signed by a secret configured here); the platform tries
  again on its schedule (about 2.8 days), so a receiver whose secret was misconfigured catches up
  once it is fixed. Each retry is signed afresh, so the 5-minute window is not a problem.
- **500 / 503**: this receiver could not apply it now; tried again later, same ``webhook-id``.
  ``Retry-After`` (seconds) asks the platform to wait at least that long.
- **410 Gone** disables the endpoint on the platform's side at once: nothing more is sent until
  someone re-enables it. Answer 410 only to unsubscribe for good; this example never does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

PATH = "/ntc/webhooks"
RETRY_AFTER_SECONDS = 30

SCHEMA = """
CREATE TABLE IF NOT EXISTS processed_webhooks (
    webhook_id  TEXT PRIMARY KEY,   -- the event's id: one row per event ever applied
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (  -- the application's own data (here: a plain log)
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id    TEXT NOT NULL,
    type        TEXT NOT NULL,
    subject     TEXT,
    time        TEXT,
    received_at TEXT NOT NULL
);
"""

Effect = Callable[[sqlite3.Connection, str, dict[str, Any]], None]


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


def verify(secrets: list[str], body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    """The event, if a configured secret signed this body with these headers less than 5 minutes ago."""
    if not all(headers.get(name) for name in ("webhook-id", "webhook-timestamp", "webhook-signature")):
        raise Refused(400, "missing webhook-id, webhook-timestamp or webhook-signature")
    for secret in secrets:  # several only while a secret is being rotated
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
        except WebhookVerificationError as exc:
            # The timestamp is checked before any signature, so its verdict is the same for every secret.
            if "timestamp too" in str(exc):
                raise Refused(401, f"{exc} (more than 5 minutes off)") from None
            if "Invalid Signature Headers" in str(exc):
                raise Refused(400, "webhook-timestamp is not a number") from None
            continue  # not this secret's signature; try the next
        except ValueError:  # a malformed signature header or a body that is not UTF-8
            raise Refused(400, "malformed signature header or body") from None
        try:
            event = json.loads(body)
        except ValueError:
            raise Refused(400, "the body is not JSON") from None
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise Refused(400, "the body is not an event")
        return event
    raise Refused(401, "no signature made with a secret configured here")


def record_event(connection: sqlite3.Connection, webhook_id: str, event: dict[str, Any]) -> None:
    """The application's effect, inside the receiver's transaction.

    A real system does its own work here: open a case, put a deadline in the calendar, write to
    its own tables. Whatever it writes must go through ``connection`` (the same transaction), so
    that it commits together with the processed id or not at all. Work that cannot roll back (an
    e-mail, a call to another system) belongs after the commit, from a queue this transaction
    writes (as here: the ``events`` table is such a queue), never inline.
    """
    connection.execute(
        "INSERT INTO events (event_id, type, subject, time, received_at) VALUES (?, ?, ?, ?, ?)",
        (webhook_id, event["type"], event.get("subject"), event.get("time"), _now()))


class Inbox:
    """The SQLite file: processed webhook ids and the application's data, written together."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path, self.busy_timeout = path, busy_timeout
        with self._connect() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: transactions are begun and ended explicitly below.
        connection = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
        connection.execute("PRAGMA synchronous=FULL")  # a commit is on disk before the 2xx goes out
        return connection

    def apply_once(self, webhook_id: str, event: dict[str, Any], effect: Effect) -> bool:
        """Apply ``event`` unless its id was applied before; False for a repeat. One transaction:
        if anything fails (or the process dies) before COMMIT, neither the id nor the effect is kept,
        and the platform's next attempt applies it."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")  # one writer at a time: two copies cannot both pass
            claimed = connection.execute(
                "INSERT INTO processed_webhooks (webhook_id, received_at) VALUES (?, ?) "
                "ON CONFLICT (webhook_id) DO NOTHING", (webhook_id, _now())).rowcount
            if not claimed:
                connection.execute("ROLLBACK")
                return False
            effect(connection, webhook_id, event)
            connection.execute("COMMIT")
            return True
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()


def build_app(secrets: list[str], database: Path, *, effect: Effect = record_event,
              busy_timeout: float = 5.0) -> web.Application:
    if not secrets:
        raise ValueError("at least one webhook secret (whsec_...) is needed")
    inbox = Inbox(database, busy_timeout=busy_timeout)

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        headers = {name.lower(): value for name, value in request.headers.items()}
        try:
            event = verify(secrets, body, headers)
        except Refused as refused:
            # Nothing is applied. The platform retries 4xx, so fixing a wrong secret here recovers.
            return web.json_response({"error": refused.reason}, status=refused.status)
        webhook_id = headers["webhook-id"]
        try:
            # SQLite blocks; a thread keeps this server answering other deliveries meanwhile.
            applied = await asyncio.to_thread(inbox.apply_once, webhook_id, event, effect)
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            # Another writer holds the database: ask the platform to come back (same webhook-id).
            return web.json_response({"error": "busy"}, status=503,
                                     headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
        # Any other exception answers 500, with nothing kept: the platform tries again later.
        if applied:
            print(f"applied {event['type']} subject={event.get('subject')} time={event.get('time')} "
                  f"id={webhook_id}", flush=True)
        # 2xx for a repeat too: it was applied before, so the platform may stop sending it.
        return web.json_response({"applied": applied, "duplicate": not applied}, status=200)

    app = web.Application()
    app.router.add_post(PATH, receive)
    return app


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.partition("\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8085)
    parser.add_argument("--secret", action="append", default=[],
                        help="a signing secret (whsec_...); repeat it during a rotation")
    parser.add_argument("--database", type=Path, default=Path("webhooks.sqlite3"))
    args = parser.parse_args(argv)
    secrets = args.secret or os.environ.get("NTC_WEBHOOK_SECRETS", "").replace(",", " ").split()
    if not secrets:
        sys.exit("give --secret whsec_... (or NTC_WEBHOOK_SECRETS): the secret from registering the endpoint")
    print(f"listening on http://{args.host}:{args.port}{PATH}, {len(secrets)} secret(s), "
          f"database {args.database}", flush=True)
    web.run_app(build_app(secrets, args.database), host=args.host, port=args.port, access_log=None,
                print=None)


if __name__ == "__main__":
    main()
