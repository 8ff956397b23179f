"""The events the organisations aggregate emits (models live in contracts.registry)."""

from __future__ import annotations

import uuid
from datetime import date

from contracts.registry import (
    AffiliationChanged,
    MembershipReported,
    OrganisationLiquidated,
    OrganisationRegistered,
    OrganisationUpdated,
)
from services.registry.organisations.models import MembershipReport, Organisation


def audience(organisation: Organisation) -> list[uuid.UUID]:
    """An organisation's own events concern it and its higher-tier organisation."""
    return [organisation.id] + ([organisation.parent_id] if organisation.parent_id else [])


def organisation_registered(organisation: Organisation) -> OrganisationRegistered:
    assert organisation.registered_at is not None
    return OrganisationRegistered(
        audience=audience(organisation),
        organisation_id=organisation.id,
        kind=organisation.kind,
        name_kk=organisation.name_kk,
        name_ru=organisation.name_ru,
        name_en=organisation.name_en,
        bin=organisation.bin,
        region_code=organisation.region_code,
        status=organisation.status,
        registered_at=organisation.registered_at,
    )


def organisation_updated(organisation: Organisation, changed: list[str]) -> OrganisationUpdated:
    return OrganisationUpdated(
        audience=audience(organisation), organisation_id=organisation.id, status=organisation.status,
        kind=organisation.kind, name_kk=organisation.name_kk, name_ru=organisation.name_ru,
        name_en=organisation.name_en, region_code=organisation.region_code, changed=changed,
    )


def affiliation_changed(organisation: Organisation, previous: uuid.UUID | None, valid_from: date) -> AffiliationChanged:
    members = {organisation.id, *(p for p in (previous, organisation.parent_id) if p)}
    return AffiliationChanged(
        audience=sorted(members, key=str), organisation_id=organisation.id, status=organisation.status,
        parent_id=organisation.parent_id, previous_parent_id=previous, valid_from=valid_from,
    )


def membership_reported(organisation: Organisation, report: MembershipReport) -> MembershipReported:
    return MembershipReported(
        audience=audience(organisation), organisation_id=organisation.id, status=organisation.status,
        year=report.year, total=report.total, women=report.women, under_35=report.under_35,
    )


def organisation_liquidated(organisation: Organisation, reason: str) -> OrganisationLiquidated:
    assert organisation.liquidated_on is not None
    return OrganisationLiquidated(
        audience=audience(organisation), organisation_id=organisation.id, status=organisation.status,
        liquidated_on=organisation.liquidated_on, reason=reason,
    )
