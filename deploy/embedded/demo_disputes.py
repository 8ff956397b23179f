"""Demo collective disputes: eight disputes in six regions at different stages, so that the social-tension view
(GET /api/v1/disputes/statistics/social-tension) and the disputes pages show something on a fresh `make run`.

Everything goes through the gateway's API with the demo administrator's key: the fictional employers and their
primary unions are entered in the register (the registry's events bring them to the disputes service), then
staff record each dispute's demands and move it through its stages, as a dispute officer records what the
parties report. Dates are counted back from today, so the stages have live elapsed days (one conciliation is
past its 14-day limit and shows as stalled). Idempotent: a dispute whose first demand is already listed is not
recorded again. The companies and figures are fictional and illustrative.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from deploy.embedded.demo_api import REGISTER_PATH, check, registered, wait_for_parties
from kernel.calendar import kazakhstan_today

DISPUTES = "/api/v1/disputes"

# KATO codes of the regions (oblasts and cities of republican significance) the demo uses.
ALMATY_CITY, ATYRAU, KARAGANDA, PAVLODAR, EAST_KAZAKHSTAN, MANGYSTAU = (
    "750000000", "230000000", "350000000", "550000000", "630000000", "470000000")


@dataclass(frozen=True)
class DemoEmployer:
    slug: str
    name_ru: str
    name_kk: str
    name_en: str
    region_code: str
    bin: str  # synthetic, with a valid check digit (the register requires an employer's BIN)


# Fictional employers, each with a primary union of its workers (registered as "<slug>-union").
DEMO_EMPLOYERS: tuple[DemoEmployer, ...] = (
    DemoEmployer("alatau-trans", "ТОО «Алатау Транс» (демо)", "«Алатау Транс» ЖШС (демо)", "Alatau Trans LLP (demo)",
                 ALMATY_CITY, "090340007003"),
    DemoEmployer("kaspiy-burenie", "АО «Каспий Бурение» (демо)", "«Каспий Бұрғылау» АҚ (демо)",
                 "Kaspiy Burenie JSC (demo)", ATYRAU, "090340007013"),
    DemoEmployer("pavlodar-energo", "ТОО «Павлодар Энерго Сервис» (демо)", "«Павлодар Энерго Сервис» ЖШС (демо)",
                 "Pavlodar Energo Service LLP (demo)", PAVLODAR, "090340007023"),
    DemoEmployer("shygys-ken", "АО «Шыгыс Кен» (демо)", "«Шығыс Кен» АҚ (демо)", "Shygys Ken JSC (demo)",
                 EAST_KAZAKHSTAN, "090340007033"),
    DemoEmployer("mangystau-munai", "ТОО «Мангистау Мунай Сервис» (демо)", "«Маңғыстау Мұнай Сервис» ЖШС (демо)",
                 "Mangystau Munai Service LLP (demo)", MANGYSTAU, "090340007043"),
    DemoEmployer("medeu-stroy", "ТОО «Медеу Курылыс» (демо)", "«Медеу Құрылыс» ЖШС (демо)",
                 "Medeu Kurylys LLP (demo)", ALMATY_CITY, "090340007053"),
)


@dataclass(frozen=True)
class DemoDispute:
    employer: str  # slug: a DEMO_EMPLOYERS entry, or "dala-metall" from demo.py
    cause: str
    workers_concerned: int
    demands: tuple[str, ...]
    submitted_days_ago: int
    # (path, days ago, extra body): the stages it went through, recorded by staff. The dates in the extra body
    # (consent_on, strike_starts_on) are in days ago too; a negative figure is a day after today.
    steps: tuple[tuple[str, int, dict[str, Any]], ...] = ()


def _answer(answer: str, text: str) -> dict[str, Any]:
    return {"answer": answer, "text": text}


MEETING = {"employees_total": 1000, "present": 820, "votes_for": 700}

DEMO_DISPUTES: tuple[DemoDispute, ...] = (
    DemoDispute("dala-metall", "wages", 4200, ("Index basic pay by 15% from the first of next month (demo)",),
                40, (("answer", 37, _answer("rejected", "No funds for indexation this year.")),
                     ("conciliation", 36, {}),
                     ("strike-decision", 25, {"meeting": MEETING, "strike_starts_on": 5}),
                     ("strike", 5, {}))),
    DemoDispute("dala-metall", "safety", 300, ("Replace the worn ventilation in the smelting shop (demo)",),
                25, (("answer", 23, _answer("rejected", "The ventilation meets the norms.")),
                     ("conciliation", 20, {}))),
    DemoDispute("alatau-trans", "wage_arrears", 850, ("Pay the drivers' wage arrears for two months (demo)",),
                9, (("answer", 8, _answer("partly_accepted", "One month now, the other in the next quarter.")),
                    ("conciliation", 6, {}))),
    DemoDispute("kaspiy-burenie", "working_conditions", 1900, ("Shift rotation of 14 days on, 14 days off (demo)",),
                30, (("answer", 28, _answer("rejected", "The 28/28 rotation stays.")),
                     ("conciliation", 25, {}),
                     ("mediation", 10, {"mediator_name": "Demo mediator", "consent_on": 12}))),
    DemoDispute("pavlodar-energo", "safety", 620, ("Protective equipment issued every six months (demo)",),
                8, (("answer", 6, _answer("rejected", "Issued yearly as the norms require.")),)),
    DemoDispute("shygys-ken", "dismissals", 310, ("Withdraw the notices of dismissal of 310 miners (demo)",), 1),
    DemoDispute("mangystau-munai", "collective_agreement", 2400,
                ("Carry out the collective agreement's regional allowance (demo)",),
                20, (("answer", 17, _answer("rejected", "The allowance is suspended.")),
                     ("conciliation", 16, {}),
                     ("strike-decision", 3, {"meeting": MEETING, "strike_starts_on": -10}))),
    DemoDispute("medeu-stroy", "wages", 140, ("Pay overtime at double rate (demo)",),
                30, (("answer", 28, _answer("rejected", "Overtime is paid at 1.5.")),
                     ("conciliation", 27, {}),
                     ("settlement", 21, {"outcome": "Overtime paid at double rate from next month."}))),
)


def load_disputes_demo(client: Any, administrator_key: str, organisations: dict[str, str],
                       out: Callable[[str], None], *, today: date | None = None) -> dict[str, str]:
    """Register the demo employers and unions (if not yet) and record the demo disputes (if not yet).

    ``client`` is an ``httpx.Client`` on the gateway; ``organisations`` maps demo.py's slugs to ids and must hold
    ``dala-metall`` and ``dala-metall-union``. Returns the slugs of the organisations added here, with their ids.
    """
    today = today or kazakhstan_today()
    headers = {"Authorization": f"Bearer {administrator_key}"}
    ids = dict(organisations)
    added = _register_employers(client, headers, ids)
    wait_for_parties(client, headers, "disputes", [ids[d.employer] for d in DEMO_DISPUTES]
                      + [ids[_union_of(d.employer)] for d in DEMO_DISPUTES])
    listed = check(client.get(f"{DISPUTES}/collective-disputes", headers=headers, params={"limit": 200}),
                    "list the disputes")
    known = {demand["text"] for item in listed["items"] for demand in item["demands"]}
    for dispute in DEMO_DISPUTES:
        if dispute.demands[0] in known:
            continue
        status = _record(client, headers, dispute, ids, today)
        out(f"  dispute at {dispute.employer}: {dispute.cause}, {dispute.workers_concerned:,} workers, {status}")
    return added


def _union_of(employer_slug: str) -> str:
    return f"{employer_slug}-union"


def _register_employers(client: Any, headers: dict[str, str], ids: dict[str, str]) -> dict[str, str]:
    existing = registered(client)
    added: dict[str, str] = {}
    for employer in DEMO_EMPLOYERS:
        union_ru = f"Первичная профсоюзная организация {employer.name_ru}"
        for slug, kind, name_ru, name_kk, name_en, bin_ in (
                (employer.slug, "employer", employer.name_ru, employer.name_kk, employer.name_en, employer.bin),
                (_union_of(employer.slug), "primary_union_organisation", union_ru,
                 f"{employer.name_kk} бастауыш кәсіподақ ұйымы", f"Primary union of {employer.name_en}", None)):
            found = existing.get((kind, name_ru))
            if found is None:
                body = {"kind": kind, "name_ru": name_ru, "name_kk": name_kk, "name_en": name_en,
                        "region_code": employer.region_code} | ({"bin": bin_} if bin_ else {})
                answer = client.post(REGISTER_PATH, headers=headers, json=body)
                found = str(check(answer, f"register {name_en}")["id"])
            ids[slug] = added[slug] = found
    return added


def _record(client: Any, headers: dict[str, str], dispute: DemoDispute, ids: dict[str, str], today: date) -> str:
    def day(days_ago: int) -> str:
        return (today - timedelta(days=days_ago)).isoformat()

    made = check(client.post(f"{DISPUTES}/collective-disputes", headers=headers, json={
        "union_id": ids[_union_of(dispute.employer)], "employer_id": ids[dispute.employer],
        "workers_concerned": dispute.workers_concerned, "cause": dispute.cause,
        "demands": [{"text": text} for text in dispute.demands],
        "submitted_on": day(dispute.submitted_days_ago)}), "record the demands")
    url = f"{DISPUTES}/collective-disputes/{made['id']}"
    status = made["status"]
    for path, days_ago, extra in dispute.steps:
        body = dict(extra)
        if path == "answer":
            body["answered_on"] = day(days_ago)
        else:
            body["on"] = day(days_ago)
        for field in ("consent_on", "strike_starts_on"):
            if field in body:
                body[field] = day(body[field])
        status = check(client.post(f"{url}/{path}", headers=headers, json=body), f"record {path}")["status"]
    return status


