"""The public register: search with filters, and the exports. Reads only; never commits.

Only organisations in a public status are ever selected (the filter's statuses are a
subset of them by type), so an applicant or a refusal cannot appear in a list or a file.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.organisations.models import Organisation, OrganisationSector
from services.registry.organisations.schemas import OrganisationPublic
from services.registry.organisations.service import PUBLIC_STATUSES, public_views
from services.registry.register import sqlite_index
from services.registry.register.rules import csv_cell
from services.registry.register.schemas import CSV_COLUMNS, RegisterFilter

# Rows per database round trip while exporting; each batch takes and returns the connection,
# so a long download never holds SQLite's single connection between batches.
EXPORT_BATCH = 500


def conditions(filters: RegisterFilter, *, trigram_table: bool = False) -> list[ColumnElement[bool]]:
    statuses = [s.value for s in filters.statuses if s.value in {p.value for p in PUBLIC_STATUSES}]
    where: list[ColumnElement[bool]] = [Organisation.status.in_(statuses)]
    if filters.fragment:
        if trigram_table and len(filters.fragment) >= sqlite_index.MIN_INDEXED:
            # SQLite: candidates from the connection's trigram index (see register/sqlite_index.py).
            where.append(literal_column("organisation.rowid").in_(
                select(literal_column("rowid")).select_from(text("temp.organisation_search"))
                .where(text("organisation_search MATCH :fragment_match")
                       .bindparams(fragment_match=sqlite_index.match_expression(filters.fragment)))))
        # The substring test itself, on the normalised column: PostgreSQL answers it from its
        # trigram index; on SQLite it only confirms the candidates.
        where.append(Organisation.search_name.contains(filters.fragment, autoescape=True))
    if filters.kinds:
        where.append(Organisation.kind.in_([k.value for k in filters.kinds]))
    if filters.region_code:
        where.append(Organisation.region_code == filters.region_code)
    if filters.sector:
        where.append(exists().where(OrganisationSector.organisation_id == Organisation.id,
                                    OrganisationSector.division_code == filters.sector))
    if filters.parent_id:
        where.append(Organisation.parent_id == filters.parent_id)
    return where


def _order(filters: RegisterFilter) -> list[Any]:
    column = getattr(Organisation, filters.sort)
    return [column, Organisation.id]


async def search(session: AsyncSession, filters: RegisterFilter, *, limit: int,
                 offset: int) -> tuple[list[Organisation], int]:
    where = conditions(filters, trigram_table=bool(filters.fragment) and await sqlite_index.ensure(session))
    if filters.fragment and session.bind is not None and session.bind.dialect.name == "postgresql":
        # PostgreSQL: the matches first, from the trigram index, then counted and sorted. Asked in one
        # query with a LIMIT, the planner walks the name index instead and filters 100,000 rows
        # (measured: 350 ms against 20 ms at 100,000 organisations).
        sort_column = getattr(Organisation, filters.sort)
        hits = (select(Organisation.id, sort_column.label("sort_key")).where(*where)
                .cte("hits").prefix_with("MATERIALIZED"))
        counted = select(func.count()).select_from(hits).scalar_subquery()
        rows = (await session.execute(select(hits.c.id, counted).order_by(hits.c.sort_key, hits.c.id)
                                      .limit(limit).offset(offset))).all()
        ids = [r[0] for r in rows]
        total = rows[0][1] if rows else None
    elif filters.fragment:
        # A fragment selects few rows: one pass finds them, counts them and sorts them.
        rows = (await session.execute(select(Organisation.id, func.count().over()).where(*where)
                                      .order_by(*_order(filters)).limit(limit).offset(offset))).all()
        ids = [r[0] for r in rows]
        total = rows[0][1] if rows else None
    else:
        # Without a fragment the name index gives the page in order; the count is separate.
        ids = list((await session.execute(select(Organisation.id).where(*where).order_by(*_order(filters))
                                          .limit(limit).offset(offset))).scalars())
        total = None
    if total is None:
        total = await session.scalar(select(func.count()).select_from(Organisation).where(*where))
    if not ids:
        return [], int(total or 0)
    found = {o.id: o for o in (await session.execute(select(Organisation).where(Organisation.id.in_(ids))))
             .scalars()}
    return [found[i] for i in ids], int(total or 0)


async def _batches(sessionmaker: async_sessionmaker[AsyncSession],
                   filters: RegisterFilter) -> AsyncIterator[list[OrganisationPublic]]:
    """Every selected organisation, by Russian name, a batch at a time (keyset paging: no OFFSET scans)."""
    after: tuple[str, uuid.UUID] | None = None
    while True:
        async with sessionmaker() as session:
            indexed = bool(filters.fragment) and await sqlite_index.ensure(session)
            query = select(Organisation).where(*conditions(filters, trigram_table=indexed))
            if after is not None:
                query = query.where(or_(Organisation.name_ru > after[0],
                                        and_(Organisation.name_ru == after[0], Organisation.id > after[1])))
            rows = list((await session.execute(query.order_by(Organisation.name_ru, Organisation.id)
                                               .limit(EXPORT_BATCH))).scalars())
            if not rows:
                return
            views = await public_views(session, rows)
        yield views
        if len(rows) < EXPORT_BATCH:
            return
        after = (rows[-1].name_ru, rows[-1].id)


def _csv_row(view: OrganisationPublic) -> list[str]:
    values = view.model_dump(mode="json")
    values["sectors"] = ";".join(view.sectors)
    values["officers"] = "; ".join(f"{o.role}: {o.name}" for o in view.officers)
    return [csv_cell(values[column]) for column in CSV_COLUMNS]


async def export_csv(sessionmaker: async_sessionmaker[AsyncSession], filters: RegisterFilter, *,
                     bom: bool) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    # Excel takes a CSV without a byte-order mark for the ANSI code page and garbles Cyrillic.
    yield ("\ufeff" if bom else "").encode() + buffer.getvalue().encode()
    async for batch in _batches(sessionmaker, filters):
        buffer.seek(0)
        buffer.truncate()
        writer.writerows(_csv_row(v) for v in batch)
        yield buffer.getvalue().encode()


async def export_json(sessionmaker: async_sessionmaker[AsyncSession],
                      filters: RegisterFilter) -> AsyncIterator[bytes]:
    yield b"["
    first = True
    async for batch in _batches(sessionmaker, filters):
        chunk = ",\n".join(json.dumps(v.model_dump(mode="json"), ensure_ascii=False) for v in batch)
        yield (chunk if first else ",\n" + chunk).encode()
        first = False
    yield b"]\n"
