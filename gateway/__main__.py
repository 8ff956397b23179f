"""Gateway administration: ``python -m gateway <command>``.

    create-api-key --name NAME --roles r1,r2 [--organisation UUID]
        Prints the new key, and nothing else, on stdout. It is shown this once:
        only its SHA-256 is stored.
    revoke-api-key --prefix PREFIX | --id UUID
    list-api-keys
    create-api-client --name NAME --roles r1,r2 [--organisation UUID]
        Prints "client_id <uuid>" and "client_secret <secret>" on stdout. The secret is
        shown this once: only its SHA-256 is stored. The client trades them for a
        short-lived bearer token at POST /oauth/token (OAuth 2.0 client credentials).
    revoke-api-client --id UUID
        No new tokens from now on; tokens already issued run out within
        GATEWAY_API_CLIENT_TOKEN_MINUTES.
    list-api-clients
    create-staff --email E --name N --roles r1,r2 [--password-stdin]
        A portal account (roles: registrar, bargaining_officer, dispute_officer, labour_inspector, analyst,
        administrator). The password (12 characters or more) is read from stdin with
        --password-stdin, otherwise asked for twice without echo.
    set-staff-password --email E [--password-stdin]
        A new password; also unlocks the account and ends its sessions.
    disable-staff --email E
        The account can no longer sign in, and its sessions end at once.
    enable-staff --email E
        A disabled account may sign in again.
    list-staff
    migrate

Every command first brings the gateway database (GATEWAY_DATABASE_URL) to head.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from gateway.api_clients import service as clients
from gateway.api_keys import service
from gateway.settings import GatewaySettings
from gateway.staff import service as staff
from gateway.tables import MIGRATIONS_DIR
from kernel.db import create_engine, create_sessionmaker
from kernel.migrations import upgrade
from kernel.problems import Problem

T = TypeVar("T")


async def _in_transaction(settings: GatewaySettings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine, MIGRATIONS_DIR)
        async with create_sessionmaker(engine)() as session:
            result = await work(session)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def _roles(value: str) -> list[str]:
    return [role for role in value.split(",") if role.strip()]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gateway", description="NTC gateway administration")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-api-key", help="issue a key; prints only the key")
    create.add_argument("--name", required=True, help="the system the key is for")
    create.add_argument("--roles", type=_roles, default=[], help="comma-separated roles, e.g. registrar,reader")
    create.add_argument("--organisation", type=uuid.UUID, default=None,
                        help="the organisation the key acts for (an employer system's own key)")
    revoke = commands.add_parser("revoke-api-key", help="revoke a key (effective within GATEWAY_API_KEY_CACHE_SECONDS)")
    which = revoke.add_mutually_exclusive_group(required=True)
    which.add_argument("--prefix", help="the key's first 8 characters, as listed")
    which.add_argument("--id", type=uuid.UUID, dest="key_id")
    commands.add_parser("list-api-keys", help="list keys (never the keys themselves)")
    create_client = commands.add_parser("create-api-client", help="register an API client; prints its id and secret")
    create_client.add_argument("--name", required=True, help="the system the client is")
    create_client.add_argument("--roles", type=_roles, default=[], help="comma-separated roles")
    create_client.add_argument("--organisation", type=uuid.UUID, default=None,
                               help="the organisation the client acts for")
    revoke_client = commands.add_parser("revoke-api-client", help="revoke a client (no new tokens from now on)")
    revoke_client.add_argument("--id", type=uuid.UUID, dest="client_id", required=True)
    commands.add_parser("list-api-clients", help="list API clients (never their secrets)")
    create_staff = commands.add_parser("create-staff", help="create a portal staff account")
    create_staff.add_argument("--email", required=True)
    create_staff.add_argument("--name", required=True, help="the person's name as shown in the portal")
    create_staff.add_argument("--roles", type=_roles, required=True,
                              help=f"comma-separated, from: {', '.join(staff.STAFF_ROLES)}")
    create_staff.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    set_password = commands.add_parser("set-staff-password", help="set a staff account's password")
    set_password.add_argument("--email", required=True)
    set_password.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    for command, does in (("disable-staff", "disable a staff account and end its sessions"),
                          ("enable-staff", "let a disabled staff account sign in again")):
        toggle = commands.add_parser(command, help=does)
        toggle.add_argument("--email", required=True)
    commands.add_parser("list-staff", help="list staff accounts (never their passwords)")
    commands.add_parser("migrate", help="bring the gateway database to head")
    return parser


def _read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at a prompt that does not echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password (12 characters or more): ")
    if getpass.getpass("The same password again: ") != password:
        raise Problem(422, "validation", "Invalid request", "The two passwords differ.")
    return password


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = GatewaySettings()
    try:
        if args.command == "create-api-key":
            async def create(session: AsyncSession) -> str:
                _, key = await service.issue_api_key(session, name=args.name, roles=args.roles,
                                                     organisation_id=args.organisation)
                return key

            print(asyncio.run(_in_transaction(settings, create)))
        elif args.command == "revoke-api-key":
            async def revoke(session: AsyncSession) -> str:
                api_key = await service.revoke_api_key(session, prefix=args.prefix, key_id=args.key_id)
                return f"revoked {api_key.prefix} ({api_key.id}, {api_key.name})"

            print(asyncio.run(_in_transaction(settings, revoke)), file=sys.stderr)
        elif args.command == "list-api-keys":
            async def listing(session: AsyncSession) -> list[str]:
                return [
                    "\t".join([str(k.id), k.prefix, k.name, str(k.organisation_id or "-"), ",".join(k.roles) or "-",
                               k.created_at.isoformat(), k.last_used_at.isoformat() if k.last_used_at else "never",
                               f"revoked {k.revoked_at.isoformat()}" if k.revoked_at else "live"])
                    for k in await service.list_api_keys(session)
                ]

            print("id\tprefix\tname\torganisation\troles\tcreated\tlast used\tstate")
            for line in asyncio.run(_in_transaction(settings, listing)):
                print(line)
        elif args.command == "create-api-client":
            async def create_client(session: AsyncSession) -> tuple[str, str]:
                client, secret = await clients.register_api_client(session, name=args.name, roles=args.roles,
                                                                   organisation_id=args.organisation)
                return str(client.id), secret

            client_id, secret = asyncio.run(_in_transaction(settings, create_client))
            print(f"client_id {client_id}")
            print(f"client_secret {secret}")
        elif args.command == "revoke-api-client":
            async def revoke_client(session: AsyncSession) -> str:
                client = await clients.revoke_api_client(session, args.client_id)
                return f"revoked API client {client.id} ({client.name})"

            print(asyncio.run(_in_transaction(settings, revoke_client)), file=sys.stderr)
        elif args.command == "list-api-clients":
            async def client_listing(session: AsyncSession) -> list[str]:
                return [
                    "\t".join([str(c.id), c.name, str(c.organisation_id or "-"), ",".join(c.roles) or "-",
                               c.created_at.isoformat(),
                               c.last_used_at.isoformat() if c.last_used_at else "never",
                               f"revoked {c.revoked_at.isoformat()}" if c.revoked_at else "live"])
                    for c in await clients.list_api_clients(session)
                ]

            print("id\tname\torganisation\troles\tcreated\tlast token\tstate")
            for line in asyncio.run(_in_transaction(settings, client_listing)):
                print(line)
        elif args.command == "create-staff":
            password = _read_password(args.password_stdin)

            async def create_account(session: AsyncSession) -> str:
                account = await staff.create_staff_account(session, email=args.email, display_name=args.name,
                                                           roles=args.roles, password=password)
                return f"created staff account {account.email} ({account.id}, roles {','.join(account.roles)})"

            print(asyncio.run(_in_transaction(settings, create_account)), file=sys.stderr)
        elif args.command == "set-staff-password":
            password = _read_password(args.password_stdin)

            async def change_password(session: AsyncSession) -> str:
                account = await staff.set_password(session, email=args.email, password=password)
                return f"password set for {account.email}; its sessions have ended"

            print(asyncio.run(_in_transaction(settings, change_password)), file=sys.stderr)
        elif args.command in ("disable-staff", "enable-staff"):
            disable = args.command == "disable-staff"

            async def toggle_account(session: AsyncSession) -> str:
                change = staff.disable_staff_account if disable else staff.enable_staff_account
                account = await change(session, email=args.email)
                return f"{account.email} {'disabled; its sessions have ended' if disable else 'enabled'}"

            print(asyncio.run(_in_transaction(settings, toggle_account)), file=sys.stderr)
        elif args.command == "list-staff":
            async def staff_listing(session: AsyncSession) -> list[str]:
                return [
                    "\t".join([str(a.id), a.email, a.display_name, ",".join(a.roles), a.created_at.isoformat(),
                               "disabled" if a.disabled_at else "active"])
                    for a in await staff.list_staff(session)
                ]

            print("id\temail\tname\troles\tcreated\tstate")
            for line in asyncio.run(_in_transaction(settings, staff_listing)):
                print(line)
        elif args.command == "migrate":
            async def nothing(session: AsyncSession) -> None:
                return None

            asyncio.run(_in_transaction(settings, nothing))
            print("gateway database at head", file=sys.stderr)
    except Problem as problem:
        print(f"error: {problem.detail or problem.title}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
