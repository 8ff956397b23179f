"""Demo tripartite commission: the Republican Tripartite Commission with its three parties and members,
a General Agreement for 2024-2026 with commitments at every stage, a sitting held with its decisions
and minutes, a sitting ahead with its agenda, an open consultation on a draft and a notice.

Everything goes through the gateway's API with the demo administrator's key: the secretariat
(staff) records each act for the party it names, as the commission's secretariat would. Idempotent:
if the commission is already there, nothing is recorded again.

Dates are counted from today, so the demo shows the same picture whenever it is loaded: one
commitment fulfilled on time, one fulfilled late, one not done, one past its due date without a
report (the deadline sweeper turns it late within seconds), two on track. Names of members are
illustrative.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from deploy.embedded.demo_api import check, wait_for_parties
from kernel.calendar import kazakhstan_today

BARGAINING = "/api/v1/bargaining"
COMMISSION_NAME = ("Republican Tripartite Commission on Social Partnership and Regulation of Social and "
                   "Labour Relations")
GENERAL_AGREEMENT = ("General Agreement between the Government of the Republic of Kazakhstan, the republican "
                     "associations of employers and the republican associations of workers for 2024-2026")
PARTIES = (("ministry-of-labour", "government"), ("atameken", "employers"), ("paryz", "employers"),
           ("fprk", "workers"))

# (appointing organisation, role, name, position)
MEMBERS = (
    ("ministry-of-labour", "member", "A. Sadykova", "Vice Minister of Labour and Social Protection"),
    ("ministry-of-labour", "member", "B. Omarov", "Vice Minister of National Economy"),
    ("ministry-of-labour", "member", "D. Ismailova", "Vice Minister of Finance"),
    ("atameken", "member", "E. Zhaksylykov", "Deputy Chair of the Board"),
    ("atameken", "member", "G. Petrova", "Director, Labour Relations"),
    ("paryz", "member", "K. Nurlanov", "President of the Confederation"),
    ("fprk", "member", "L. Abenova", "Chair of the Federation"),
    ("fprk", "member", "M. Serikbayev", "Deputy Chair"),
    ("fprk", "member", "N. Kim", "Head of Legal Department"),
    ("fprk", "alternate", "O. Tulegenova", "Head of Occupational Safety Department"),
)

CLAUSES = (
    ("pay", "Minimum wage", "The parties seek a yearly rise of the minimum wage above inflation."),
    ("occupational_safety", "Occupational safety", "The parties halve fatal occupational accidents by 2026."),
    ("social_benefits", "Youth employment", "The parties create jobs for young people leaving education."),
)

# (responsible party, what, indicator, due in days from today, reports: [(outcome, progress, evidence or None)])
COMMITMENTS: tuple[tuple[str, str, str, int, tuple[tuple[str, str, str | None], ...]], ...] = (
    ("government", "Raise the minimum wage to 85,000 tenge", "Budget law for the year adopted", -200,
     (("done", "The budget law set the minimum wage at 85,000 tenge.", "Law on the republican budget"),)),
    ("employers", "Create 50,000 jobs for young people", "Jobs created (statistics of the employment centres)", -30,
     (("in_progress", "31,400 jobs created so far.", None),)),
    ("government", "Publish the yearly report on wage arrears", "Report published on the ministry's site", -10,
     (("done", "The report was published after its due date.", "Report on wage arrears"),)),
    ("government", "Adopt the law on compulsory insurance against occupational accidents", "Law adopted", -90,
     (("not_done", "The draft law was withdrawn for revision.", None),)),
    ("workers", "Train 1,000 occupational safety representatives", "Representatives trained", 25,
     (("in_progress", "640 representatives trained.", None),)),
    ("employers", "Index pay in sectoral agreements at least by inflation", "Sectoral agreements indexed", 40, ()),
)


def load_commissions_demo(client: Any, administrator_key: str, organisations: dict[str, str],
                          out: Callable[[str], None]) -> None:
    """Record the demo commission and the General Agreement's monitoring through the gateway."""
    headers = {"Authorization": f"Bearer {administrator_key}"}
    ids = {slug: organisations[slug] for slug, _ in PARTIES}
    wait_for_parties(client, headers, "bargaining", ids.values())
    listed = check(client.get(f"{BARGAINING}/commissions", headers=headers,
                               params={"level": "republican", "limit": 200}), "list the commissions")
    if any(c["name"] == COMMISSION_NAME for c in listed["items"]):
        return
    today = kazakhstan_today()
    commission = check(client.post(f"{BARGAINING}/commissions", headers=headers, json={
        "name": COMMISSION_NAME, "level": "republican", "chair_name": "Deputy Prime Minister of the Republic of "
        "Kazakhstan", "chair_position": "Chair of the commission",
        "secretariat": "Ministry of Labour and Social Protection of the Population",
        "term_from": "2024-01-01", "term_to": f"{max(today.year + 1, 2026)}-12-31",
        "parties": [{"organisation_id": ids[slug], "side": side} for slug, side in PARTIES]}),
        "set up the commission")
    url = f"{BARGAINING}/commissions/{commission['id']}"
    seats: dict[str, list[str]] = {}
    for slug, role, name, position in MEMBERS:
        seat = check(client.post(f"{url}/members", headers=headers, json={
            "organisation_id": ids[slug], "role": role, "name": name, "position": position}), "appoint a member")
        if role == "member":
            seats.setdefault(slug, []).append(seat["id"])
    _sittings(client, headers, url, seats, today)
    _consultation(client, headers, url, today)
    check(client.post(f"{url}/notices", headers=headers, json={
        "title": "Plan of work of the commission for next year",
        "body": "The secretariat shares the draft plan of work; the parties send their proposals within a month.",
        "documents": [{"title": "Draft plan of work", "reference": f"RTC-PLAN-{today.year + 1}"}]}),
        "share a notice")
    agreement_id = _general_agreement(client, headers, ids)
    _commitments(client, headers, agreement_id, today)
    out(f"  commission: {COMMISSION_NAME} (2 sittings, 1 open consultation); {GENERAL_AGREEMENT[:18]} with "
        f"{len(COMMITMENTS)} commitments")


def _sittings(client: Any, headers: dict[str, str], url: str, seats: dict[str, list[str]], today: date) -> None:
    held = check(client.post(f"{url}/sittings", headers=headers, json={
        "held_on": (today - timedelta(days=60)).isoformat(), "place": "Government House, Astana"}),
        "schedule a sitting")
    sitting = f"{url}/sittings/{held['id']}"
    for side, title in (("government", "The minimum wage for next year"),
                        ("employers", "Reducing reporting by employers on labour matters"),
                        ("workers", "Wage arrears in the mining and metallurgical sector")):
        check(client.post(f"{sitting}/agenda", headers=headers, json={
            "side": side, "title": title, "documents": [{"title": title, "reference": f"RTC-{side[:3].upper()}-1"}]}),
            "add an agenda item")
    present = [seat for slug_seats in seats.values() for seat in slug_seats]
    check(client.post(f"{sitting}/attendance", headers=headers, json={"present": present}), "record attendance")
    check(client.post(f"{sitting}/decisions", headers=headers, json={
        "text": "The commission supports raising the minimum wage to 85,000 tenge.", "agenda_item_number": 1,
        "positions": [{"side": "government", "position": "for"},
                      {"side": "employers", "position": "with_reservations",
                       "text": "Small businesses need a transition period of six months."},
                      {"side": "workers", "position": "for"}]}), "record a decision")
    check(client.post(f"{sitting}/decisions", headers=headers, json={
        "text": "Employers' statistical reporting on labour is cut to one form a year.", "agenda_item_number": 2,
        "positions": [{"side": "government", "position": "abstain"}, {"side": "employers", "position": "for"},
                      {"side": "workers", "position": "against",
                       "text": "Wage arrears would no longer be visible during the year."}]}), "record a decision")
    check(client.post(f"{sitting}/minutes", headers=headers, json={
        "text": "Minutes of the sitting: three items considered, two decisions taken (one adopted).",
        "documents": [{"title": "Minutes", "reference": "RTC-MIN-1"}]}), "publish the minutes")
    ahead = check(client.post(f"{url}/sittings", headers=headers, json={
        "held_on": (today + timedelta(days=21)).isoformat(), "remote": True}), "schedule a sitting")
    for side, title in (("government", "Draft amendments to the Labour Code on platform employment"),
                        ("workers", "Results of the General Agreement and the next one")):
        check(client.post(f"{url}/sittings/{ahead['id']}/agenda", headers=headers, json={"side": side,
                                                                                         "title": title}),
               "add an agenda item")


def _consultation(client: Any, headers: dict[str, str], url: str, today: date) -> None:
    opened = check(client.post(f"{url}/consultations", headers=headers, json={
        "side": "government", "title": "Draft amendments to the Labour Code on platform employment",
        "summary": "Platform workers get a written contract, paid rest and occupational accident insurance.",
        "documents": [{"title": "Draft law", "reference": "MLSP-DRAFT-2026-14"},
                      {"title": "Explanatory note", "reference": "MLSP-DRAFT-2026-14-EN"}],
        "opened_on": today.isoformat(), "working_days": 10}), "open a consultation")
    check(client.post(f"{url}/consultations/{opened['id']}/positions", headers=headers, json={
        "side": "employers", "position": "support_with_amendments",
        "text": "Insurance contributions should start a year after the law comes into force."}), "file a position")


def _general_agreement(client: Any, headers: dict[str, str], ids: dict[str, str]) -> str:
    listed = check(client.get(f"{BARGAINING}/negotiations", headers=headers, params={"limit": 200,
                                                                                     "level": "general"}),
                    "list the negotiations")
    for negotiation in listed["items"]:
        if negotiation["subject_matter"] == GENERAL_AGREEMENT:
            return str(negotiation["id"])
    negotiation = check(client.post(f"{BARGAINING}/negotiations", headers=headers, json={
        "level": "general", "subject_matter": GENERAL_AGREEMENT, "initiator_id": ids["fprk"],
        "parties": [{"organisation_id": ids[slug], "side": side} for slug, side in PARTIES]}), "propose bargaining")
    url = f"{BARGAINING}/negotiations/{negotiation['id']}"
    for slug in ("ministry-of-labour", "atameken", "paryz"):
        check(client.post(f"{url}/entry", headers=headers, json={"organisation_id": ids[slug]}),
               "enter negotiations")
    for side, slug in (("government", "ministry-of-labour"), ("employers", "atameken"), ("workers", "fprk")):
        check(client.put(f"{url}/commission/{side}", headers=headers, json={"members": [
            {"organisation_id": ids[slug], "name": f"{side.capitalize()} member {n}", "position": "Commission member"}
            for n in (1, 2, 3)]}), "name the commission")
    check(client.post(f"{url}/commission/constitution", headers=headers), "constitute the commission")
    for category, title, text in CLAUSES:
        clause = check(client.post(f"{url}/clauses", headers=headers, json={
            "category": category, "title": title, "text": text, "side": "workers"}), "propose a clause")
        for side in ("employers", "government"):
            check(client.post(f"{url}/clauses/{clause['id']}/acceptance", headers=headers,
                               json={"version": clause["current_version"], "side": side}), "agree a clause")
    for side, name in (("government", "Prime Minister"), ("employers", "Chair of the Presidium of Atameken"),
                       ("workers", "Chair of the Federation")):
        check(client.post(f"{url}/signatures", headers=headers, json={
            "side": side, "signatory_name": name, "signatory_position": name}), "sign")
    signed_on = check(client.get(url, headers=headers), "read the negotiation")["signed_on"]
    check(client.post(f"{url}/filing", headers=headers, json={
        "authority": "Ministry of Labour and Social Protection of the Population",
        "registration_number": "GA-2024-2026",
        "filed_on": signed_on, "term_from": "2024-01-01", "term_to": "2026-12-31"}), "file the agreement")
    check(client.post(f"{url}/entry-into-force", headers=headers, json={}), "bring the agreement into force")
    return str(negotiation["id"])


def _commitments(client: Any, headers: dict[str, str], agreement_id: str, today: date) -> None:
    for side, what, indicator, due_in, reports in COMMITMENTS:
        due_on = today + timedelta(days=due_in)
        commitment = check(client.post(f"{BARGAINING}/agreements/{agreement_id}/commitments", headers=headers,
                                        json={"what": what, "responsible_side": side, "due_on": due_on.isoformat(),
                                              "indicator": indicator}), "record a commitment")
        for outcome, progress, evidence in reports:
            body: dict[str, Any] = {"outcome": outcome, "progress": progress}
            if evidence:
                body["evidence"] = [{"title": evidence, "reference": f"{evidence[:12].upper()}-{today.year}"}]
            if outcome == "done" and due_in < -30:
                body["reported_on"] = (due_on - timedelta(days=5)).isoformat()  # fulfilled in time
            check(client.post(f"{BARGAINING}/commitments/{commitment['id']}/reports", headers=headers, json=body),
                   "report on a commitment")


