"""Demo data for the embedded runner: API keys and a portal staff account (made with the gateway's CLI)
and organisations (via the API).

Idempotent: keys already recorded in ``demo-credentials.json`` are reused, and
organisations already in the register (same kind and Russian name) are not entered again.
Everything goes through the same doors a real client uses - the gateway CLI and HTTP API -
so the demo also proves the wiring.
"""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from deploy.embedded.demo_api import REGISTER_PATH, DemoError, registered
from deploy.embedded.demo_bargaining import DEMO_AGREEMENTS, load_bargaining_demo
from deploy.embedded.demo_commissions import load_commissions_demo
from deploy.embedded.demo_disputes import DEMO_DISPUTES, load_disputes_demo
from kernel.calendar import kazakhstan_today

IMPORTS_PATH = "/api/v1/registry/imports"
# The hand-written organisations the national register hangs below (see national_register.generate).
NATIONAL_ANCHORS = ("fprk", "atameken", "paryz", "mining-metallurgy-union", "mining-employers")

# Roles the gateway puts in the identity token of each demo key. The organisation keys
# act for one organisation (the services scope them by its id).
ADMINISTRATOR_ROLES = ("administrator",)
REGISTRAR_ROLES = ("registrar",)
UNION_ROLES = ("union",)
EMPLOYER_ROLES = ("employer",)


@dataclass(frozen=True)
class DemoOrganisation:
    slug: str
    kind: str
    name_kk: str
    name_ru: str
    name_en: str
    bin: str | None = None
    region_code: str | None = None

    def body(self) -> dict[str, Any]:
        body = {"kind": self.kind, "name_kk": self.name_kk, "name_ru": self.name_ru, "name_en": self.name_en}
        if self.bin is not None:
            body["bin"] = self.bin
        if self.region_code is not None:
            body["region_code"] = self.region_code
        return body


ASTANA, KARAGANDA_REGION = "710000000", "350000000"  # KATO codes

# The real social partners carry no BIN here (it is optional for them, and we do not
# invent identifiers for real bodies). "Dala Metall" is fictional; its BIN is synthetic
# but has a valid check digit (services.registry.organisations.rules.make_bin("05034000123")).
DEMO_ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        "fprk", "republican_union_association",
        name_kk="Қазақстан Республикасы Кәсіподақтар Федерациясы",
        name_ru="Федерация профсоюзов Республики Казахстан",
        name_en="Federation of Trade Unions of the Republic of Kazakhstan",
        region_code=ASTANA,
    ),
    DemoOrganisation(
        "mining-metallurgy-union", "sectoral_union",
        name_kk="Тау-кен металлургия өнеркәсібі қызметкерлерінің қазақстандық салалық кәсіподағы",
        name_ru="Казахстанский отраслевой профессиональный союз работников горно-металлургической промышленности",
        name_en="Kazakhstan Sectoral Trade Union of Mining and Metallurgical Workers",
        region_code=KARAGANDA_REGION,
    ),
    DemoOrganisation(
        "atameken", "republican_employer_association",
        name_kk="«Атамекен» Қазақстан Республикасының Ұлттық кәсіпкерлер палатасы",
        name_ru="Национальная палата предпринимателей Республики Казахстан «Атамекен»",
        name_en='National Chamber of Entrepreneurs of the Republic of Kazakhstan "Atameken"',
        region_code=ASTANA,
    ),
    DemoOrganisation(
        "paryz", "republican_employer_association",
        name_kk="«ПАРЫЗ» Қазақстан Республикасы жұмыс берушілерінің (кәсіпкерлерінің) конфедерациясы",
        name_ru="Конфедерация работодателей (предпринимателей) Республики Казахстан «ПАРЫЗ»",
        name_en='Confederation of Employers (Entrepreneurs) of the Republic of Kazakhstan "PARYZ"',
        region_code=ASTANA,
    ),
    DemoOrganisation(
        "mining-employers", "sectoral_employer_association",
        name_kk="Тау-кен өндіру және тау-кен металлургия кәсіпорындарының қауымдастығы",
        name_ru="Ассоциация горнодобывающих и горно-металлургических предприятий",
        name_en="Association of Mining and Metallurgical Enterprises",
        region_code=ASTANA,
    ),
    DemoOrganisation(
        "dala-metall", "employer",
        name_kk="«Дала Металл» акционерлік қоғамы",
        name_ru="Акционерное общество «Дала Металл»",
        name_en="Dala Metall JSC",
        bin="050340001235",
        region_code=KARAGANDA_REGION,
    ),
    DemoOrganisation(
        "dala-metall-union", "primary_union_organisation",
        name_kk="«Дала Металл» АҚ бастауыш кәсіподақ ұйымы",
        name_ru="Первичная профсоюзная организация АО «Дала Металл»",
        name_en="Primary trade union organisation of Dala Metall JSC",
        region_code=KARAGANDA_REGION,
    ),
    DemoOrganisation(
        "ministry-of-labour", "government_body",
        name_kk="Қазақстан Республикасы Еңбек және халықты әлеуметтік қорғау министрлігі",
        name_ru="Министерство труда и социальной защиты населения Республики Казахстан",
        name_en="Ministry of Labour and Social Protection of the Population of the Republic of Kazakhstan",
        region_code=ASTANA,
    ),
)


# The portal's demo staff account; its password is generated once and kept in demo-credentials.json.
DEMO_STAFF_EMAIL = "admin@ntc.example"
DEMO_STAFF_NAME = "Demo administrator"
# With the roles whose desks receive events, so that the portal's inbox has the demo's events in it.
DEMO_STAFF_ROLES = ("administrator", "registrar", "bargaining_officer", "dispute_officer")


@dataclass(frozen=True)
class DemoKey:
    label: str
    roles: tuple[str, ...]
    organisation_slug: str | None = None


# The union and employer keys belong to the two sides of one enterprise, so a demo of
# demands, bargaining or a dispute can run between them.
DEMO_KEYS: tuple[DemoKey, ...] = (
    DemoKey("administrator", ADMINISTRATOR_ROLES),
    DemoKey("registrar", REGISTRAR_ROLES),
    DemoKey("union", UNION_ROLES, "dala-metall-union"),
    DemoKey("employer", EMPLOYER_ROLES, "dala-metall"),
)




@dataclass
class KeyEntry:
    label: str
    key: str
    roles: list[str]
    organisation_id: str | None = None
    organisation_name: str | None = None


@dataclass
class Credentials:
    gateway_url: str = ""
    keys: dict[str, KeyEntry] = field(default_factory=dict)
    organisations: dict[str, str] = field(default_factory=dict)  # slug -> id
    staff: dict[str, str] | None = None  # {"email": ..., "password": ...}: the portal sign-in

    @classmethod
    def load(cls, path: Path) -> Credentials:
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text())
            return cls(
                gateway_url=raw.get("gateway_url", ""),
                keys={label: KeyEntry(**entry) for label, entry in raw.get("keys", {}).items()},
                organisations=dict(raw.get("organisations", {})),
                staff=dict(raw["staff"]) if raw.get("staff") else None,
            )
        except (ValueError, TypeError) as exc:
            raise DemoError(f"{path} is not a demo credentials file ({exc}); delete it to start afresh") from exc

    def save(self, path: Path) -> None:
        from deploy.embedded.runner import write_private_file

        data = {"gateway_url": self.gateway_url, "keys": {k: asdict(v) for k, v in self.keys.items()},
                "organisations": self.organisations}
        if self.staff is not None:
            data["staff"] = self.staff
        write_private_file(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def load_demo_data(*, gateway_url: str, credentials_file: Path, cli_argv: Sequence[str], cli_env: dict[str, str],
                   cwd: Path, out: Callable[[str], None], national_register: bool = False) -> Credentials:
    import httpx

    credentials = Credentials.load(credentials_file)
    credentials.gateway_url = gateway_url

    def create_key(demo_key: DemoKey, organisation_id: str | None, organisation_name: str | None) -> None:
        key = create_api_key(cli_argv, cli_env, cwd, name=f"demo-{demo_key.label}", roles=demo_key.roles,
                             organisation_id=organisation_id)
        credentials.keys[demo_key.label] = KeyEntry(label=demo_key.label, key=key, roles=list(demo_key.roles),
                                                    organisation_id=organisation_id,
                                                    organisation_name=organisation_name)
        credentials.save(credentials_file)  # after each key: a failure later must not mint it twice
        out(f"  created API key {demo_key.label!r} (roles {','.join(demo_key.roles)})")

    for demo_key in DEMO_KEYS:
        if demo_key.organisation_slug is None and demo_key.label not in credentials.keys:
            create_key(demo_key, None, None)

    if credentials.staff is None:
        password = secrets.token_urlsafe(18)
        create_staff_account(cli_argv, cli_env, cwd, email=DEMO_STAFF_EMAIL, name=DEMO_STAFF_NAME,
                             roles=DEMO_STAFF_ROLES, password=password)
        credentials.staff = {"email": DEMO_STAFF_EMAIL, "password": password}
        credentials.save(credentials_file)
        out(f"  created portal staff account {DEMO_STAFF_EMAIL} (roles {','.join(DEMO_STAFF_ROLES)})")

    registrar = credentials.keys["registrar"].key
    with httpx.Client(base_url=gateway_url, timeout=30.0) as client:
        existing = registered(client)
        for organisation in DEMO_ORGANISATIONS:
            found = existing.get((organisation.kind, organisation.name_ru))
            if found is None:
                found = _register(client, registrar, organisation, credentials_file)
                out(f"  registered {organisation.name_en}")
            credentials.organisations[organisation.slug] = found
        credentials.save(credentials_file)
        if national_register:
            anchors = {slug: credentials.organisations[slug] for slug in NATIONAL_ANCHORS}
            load_national_register(client, registrar, anchors, out)

    names = {o.slug: o.name_en for o in DEMO_ORGANISATIONS}
    for demo_key in DEMO_KEYS:
        if demo_key.organisation_slug is None:
            continue
        organisation_id = credentials.organisations[demo_key.organisation_slug]
        entry = credentials.keys.get(demo_key.label)
        # A key for an organisation that is no longer registered (its database was reset) is useless.
        if entry is None or entry.organisation_id != organisation_id:
            create_key(demo_key, organisation_id, names[demo_key.organisation_slug])
    administrator = credentials.keys["administrator"].key
    with httpx.Client(base_url=gateway_url, timeout=30.0) as client:
        load_bargaining_demo(client, administrator, credentials.organisations, kazakhstan_today().year, out)
        load_commissions_demo(client, administrator, credentials.organisations, out)
        credentials.organisations.update(load_disputes_demo(client, administrator, credentials.organisations, out))
        credentials.save(credentials_file)
    out(f"  demo data ready: {len(credentials.organisations)} organisations, {len(credentials.keys)} API keys, "
        f"{len(DEMO_AGREEMENTS)} agreements in force, {len(DEMO_DISPUTES)} collective disputes")
    return credentials


def load_national_register(client: Any, registrar_key: str, anchors: dict[str, str],
                           out: Callable[[str], None], *, timeout: float = 300.0) -> None:
    """The synthetic national register, through the registry's bulk import (the job API), one file at a
    time. A file whose job is already done (an earlier run) is not imported again."""
    import time

    from deploy.embedded.national_register import generate

    started = time.monotonic()
    headers = {"Authorization": f"Bearer {registrar_key}"}
    # The hand-written sectoral bodies join their republican ones, so the federation's figures cover them.
    for child, parent in (("mining-metallurgy-union", "fprk"), ("mining-employers", "atameken")):
        _affiliate(client, headers, anchors[child], anchors[parent])
    files = generate(anchors).csv_files()
    jobs = _import_jobs(client, headers)
    for number, content in enumerate(files, start=1):
        name = f"national-register-{number:02d}-of-{len(files):02d}.csv"
        job = jobs.get(name)
        if job is not None and job["status"] == "done":
            out(f"  national register {name}: imported already")
            continue
        if job is None or job["status"] == "failed":
            response = client.post(IMPORTS_PATH, headers=headers, files={"file": (name, content, "text/csv")})
            if response.status_code != 202:
                raise DemoError(f"POST {IMPORTS_PATH} for {name} answered {response.status_code}: "
                                f"{response.text[:500]}")
            job = response.json()
        job = _wait_for_import(client, headers, job, name, out, deadline=time.monotonic() + timeout)
        if job["status"] != "done":
            problems = job["report"].get("problems") or []
            raise DemoError(f"the national register file {name} did not import: "
                            f"{job['report'].get('error') or problems[:5]}")
        report = job["report"]
        out(f"  national register {name}: {report['organisations']} organisations, "
            f"{report['membership_reports']} membership reports")
    out(f"  national register ready ({time.monotonic() - started:.1f} s)")


def _affiliate(client: Any, headers: dict[str, str], organisation_id: str, parent_id: str) -> None:
    path = f"{REGISTER_PATH}/{organisation_id}"
    current = client.get(path, headers=headers)
    if current.status_code != 200:
        raise DemoError(f"GET {path} answered {current.status_code}: {current.text[:500]}")
    if current.json()["parent_id"] is not None:
        return
    # Since before the years the demo's membership reports cover.
    response = client.put(f"{path}/affiliation", headers=headers,
                          json={"parent_id": parent_id, "valid_from": "2000-01-01"})
    if response.status_code != 200:
        raise DemoError(f"PUT {path}/affiliation answered {response.status_code}: {response.text[:500]}")


def _import_jobs(client: Any, headers: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The newest import job of each file name."""
    found: dict[str, dict[str, Any]] = {}
    offset = 0
    while True:
        response = client.get(IMPORTS_PATH, headers=headers, params={"limit": 200, "offset": offset})
        if response.status_code != 200:
            raise DemoError(f"GET {IMPORTS_PATH} answered {response.status_code}: {response.text[:500]}")
        page = response.json()
        for job in page["items"]:
            found.setdefault(job["filename"], job)  # newest first
        offset += len(page["items"])
        if not page["items"] or offset >= page["total"]:
            return found


def _wait_for_import(client: Any, headers: dict[str, str], job: dict[str, Any], name: str,
                     out: Callable[[str], None], *, deadline: float) -> dict[str, Any]:
    import time

    last_said = ""
    while True:
        said = f"{job['status']} {job['rows_done']}/{job['rows_total'] or '?'} rows"
        if said != last_said:
            out(f"  national register {name}: {said}")
            last_said = said
        if job["status"] in ("done", "failed"):
            return job
        if time.monotonic() > deadline:
            raise DemoError(f"the import of {name} did not finish in time (last: {said})")
        time.sleep(0.25)
        response = client.get(f"{IMPORTS_PATH}/{job['id']}", headers=headers)
        if response.status_code != 200:
            raise DemoError(f"GET {IMPORTS_PATH}/{job['id']} answered {response.status_code}: {response.text[:500]}")
        job = response.json()


def create_api_key(cli_argv: Sequence[str], env: dict[str, str], cwd: Path, *, name: str, roles: Sequence[str],
                   organisation_id: str | None) -> str:
    argv = [*cli_argv, "create-api-key", "--name", name, "--roles", ",".join(roles)]
    if organisation_id is not None:
        argv += ["--organisation", organisation_id]
    try:
        # Own session: a Ctrl-C meant for the runner must not cut a key half-written.
        result = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=60,
                                start_new_session=True, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DemoError(f"`{' '.join(argv)}` did not run: {exc}") from exc
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if result.returncode != 0 or not lines:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise DemoError(f"`{' '.join(argv)}` failed (exit {result.returncode}): {detail or 'no output'}")
    return lines[-1]  # the CLI prints only the key; be lenient about a stray line before it


def create_staff_account(cli_argv: Sequence[str], env: dict[str, str], cwd: Path, *, email: str, name: str,
                         roles: Sequence[str], password: str) -> None:
    """``create-staff``; when the account exists already (the credentials file was deleted, the
    database kept), ``set-staff-password`` instead, so the password on record is the one that works."""
    create = [*cli_argv, "create-staff", "--email", email, "--name", name, "--roles", ",".join(roles),
              "--password-stdin"]
    result = _run_cli(create, env, cwd, stdin=password + "\n")
    if result.returncode != 0 and "already exists" in result.stderr:
        result = _run_cli([*cli_argv, "set-staff-password", "--email", email, "--password-stdin"], env, cwd,
                          stdin=password + "\n")
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise DemoError(f"creating the demo staff account failed (exit {result.returncode}): {detail or 'no output'}")


def _run_cli(argv: Sequence[str], env: dict[str, str], cwd: Path, *, stdin: str) -> subprocess.CompletedProcess[str]:
    try:
        # The password goes through stdin, never the command line (other users can read that in /proc).
        return subprocess.run(argv, env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=60,
                              start_new_session=True, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DemoError(f"`{' '.join(argv[:3])} ...` did not run: {exc}") from exc


def _register(client: Any, registrar_key: str, organisation: DemoOrganisation, credentials_file: Path) -> str:
    response = client.post(REGISTER_PATH, json=organisation.body(),
                           headers={"Authorization": f"Bearer {registrar_key}"})
    if response.status_code == 201:
        return str(response.json()["id"])
    if response.status_code == 409 and organisation.bin is not None:
        # Same BIN under another name (someone renamed it): that is our organisation.
        conflict_id = response.json().get("organisation_id")
        if conflict_id:
            return str(conflict_id)
    if response.status_code in (401, 403):
        raise DemoError(
            f"the gateway refused the demo registrar key ({response.status_code}): the gateway's database and "
            f"{credentials_file} disagree (was one of them deleted?). Delete {credentials_file}, or run "
            "`python -m deploy.embedded reset --yes`."
        )
    raise DemoError(f"POST {REGISTER_PATH} for {organisation.name_en!r} answered {response.status_code}: "
                    f"{response.text[:500]}")
