"""The events the organisations aggregate emits (models live in contracts.registry)."""

from contracts.registry import OrganisationRegistered
from services.registry.organisations.models import Organisation


def organisation_registered(organisation: Organisation) -> OrganisationRegistered:
    return OrganisationRegistered(
        audience=[organisation.id],
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
