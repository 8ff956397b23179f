"""On SQLite, a trigram full-text index of the organisations' names, so that '%fragment%' is not a scan.

PostgreSQL answers the same search from its pg_trgm index (migration 0006). SQLite's FTS5
tables would add six tables to the schema that PostgreSQL does not have, so the index lives
in the TEMP schema of the (single) connection the registry holds to its SQLite file: built
when the first search meets a connection without it (about a second per 20,000
organisations), then kept current by TEMP triggers on every write through that connection,
and rebuilt when another connection (another process, a migration) has written to the file,
which ``PRAGMA data_version`` reveals. Rows are only candidates: the search still tests the
normalised column itself, so the index can only make a search faster, never different.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncSession

# Trigrams: a fragment shorter than this cannot use the index and is tested by a scan.
MIN_INDEXED = 3
_BUILT = "organisation_search_data_version"

_CREATE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS temp.organisation_search USING fts5(search_name, tokenize='trigram', "
    "content='')",
    "CREATE TEMP TRIGGER IF NOT EXISTS organisation_search_insert AFTER INSERT ON main.organisation BEGIN "
    "INSERT INTO organisation_search(rowid, search_name) VALUES (new.rowid, new.search_name); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS organisation_search_delete AFTER DELETE ON main.organisation BEGIN "
    "INSERT INTO organisation_search(organisation_search, rowid, search_name) "
    "VALUES ('delete', old.rowid, old.search_name); END",
    "CREATE TEMP TRIGGER IF NOT EXISTS organisation_search_update AFTER UPDATE OF search_name "
    "ON main.organisation BEGIN "
    "INSERT INTO organisation_search(organisation_search, rowid, search_name) "
    "VALUES ('delete', old.rowid, old.search_name); "
    "INSERT INTO organisation_search(rowid, search_name) VALUES (new.rowid, new.search_name); END",
)


def match_expression(fragment: str) -> str:
    """An FTS5 phrase for the fragment: with the trigram tokenizer, a phrase matches any substring."""
    return '"' + fragment.replace('"', '""') + '"'


def _sync(connection: Connection) -> None:
    dbapi: Any = connection.connection.dbapi_connection
    info = connection.connection.info
    cursor = dbapi.cursor()
    try:
        cursor.execute("PRAGMA data_version")
        version = cursor.fetchone()[0]
        if info.get(_BUILT) == version:
            return
        # Outside the request's transaction: a read-only request ends in a rollback, which must not
        # take the index with it. A search never has writes pending on its connection.
        for statement in _CREATE:
            cursor.execute(statement)
        cursor.execute("INSERT INTO temp.organisation_search(organisation_search) VALUES ('delete-all')")
        cursor.execute("INSERT INTO temp.organisation_search(rowid, search_name) "
                       "SELECT rowid, search_name FROM main.organisation")
        dbapi.commit()
        info[_BUILT] = version
    finally:
        cursor.close()


async def ensure(session: AsyncSession) -> bool:
    """True when the trigram index is ready on this session's connection (SQLite); False elsewhere."""
    connection = await session.connection()
    if connection.dialect.name != "sqlite":
        return False
    await connection.run_sync(_sync)
    return True
