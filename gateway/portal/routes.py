"""The staff portal: server-rendered pages, nothing fetched from elsewhere, in Kazakh, Russian or English.

Every page works without JavaScript; the dashboard loads the vendored htmx
(``static/vendor``) only to refresh its services table in place. The language is the
``ntc_lang`` cookie's (the header's switch, ``/language/<code>``), else the browser's
``Accept-Language``, else ``GATEWAY_PORTAL_DEFAULT_LANGUAGE`` (``gateway.i18n``).

``/status`` is public (operators check readiness there); every other page needs a signed-in
staff member, and the administration pages the administrator role. Every form carries a
CSRF token: a session's own (`gateway.staff.service.csrf_token_of`) once signed in, and on
the sign-in form a random one that must match a short-lived cookie (so a foreign site
cannot sign a browser in to an account of its choosing).
"""

from __future__ import annotations

import asyncio
import hmac
import math
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader
from starlette.templating import Jinja2Templates

from gateway import i18n
from gateway.audit.service import ANONYMOUS_ACTOR, list_events, record
from gateway.authentication import SESSION_COOKIE
from gateway.health import readiness
from gateway.i18n import N_
from gateway.limits import RateLimited
from gateway.portal import figures, upstream
from gateway.proxy.forwarder import API_PREFIX
from gateway.staff import oidc
from gateway.staff import service as staff
from gateway.staff.service import SignedIn
from kernel.db import utcnow

if TYPE_CHECKING:
    from gateway.app import GatewayState

TEMPLATES = Jinja2Templates(env=Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                                            autoescape=True))
i18n.install(TEMPLATES.env)
STATIC_DIR = Path(__file__).parent / "static"

# Strict by default: the page loads only its own stylesheet and can be framed by no one.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
# A page's language follows the cookie and Accept-Language: caches must keep the versions apart.
PAGE_HEADERS = {**SECURITY_HEADERS, "Vary": "Accept-Language, Cookie"}

SIGN_IN_CSRF_COOKIE = "ntc_sign_in_csrf"
SIGN_IN_CSRF_SECONDS = 3600
CSRF_FIELD = "csrf_token"
AUDIT_PAGE_SIZE = 50
ADMINISTRATOR = "administrator"
# gateway.staff.service.SIGN_IN_REFUSED, marked here for the portal's catalogue (a test keeps them equal).
SIGN_IN_REFUSED = N_("The email or password is wrong.")
OIDC_REFUSED = N_("Signing in through the identity provider did not succeed. Try again, or ask an administrator "
                  "whether you have a staff account.")
OIDC_CALLBACK_PATH = "/sign-in/oidc/callback"
# The readiness report's statuses, as the services table shows them; others are shown as they come.
STATUS_LABELS = {"ready": N_("ready"), "not ready": N_("not ready"), "unreachable": N_("unreachable"),
                 "timeout": N_("timeout")}
LANGUAGE_NEXT_MAX = 2000
# The header's count of unread inbox messages: asked of the notifications service on every page, so briefly —
# a slow or absent service leaves the count out rather than holding the page.
INBOX_UNREAD_PATH = "/inbox/unread-count"
INBOX_UNREAD_TIMEOUT_SECONDS = 0.5
INBOX_UNREAD_STATE = "portal_inbox_unread"

log = structlog.get_logger(__name__)
router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Section:
    slug: str
    title: str
    summary: str
    service: str | None = None  # whose API documentation the placeholder links to
    coming_with: str | None = None  # the issue that fills the page
    needs_role: str | None = None


SECTIONS: tuple[Section, ...] = (
    Section("registry", N_("Registry"),
            N_("Trade unions, employer associations and employers: registrations, affiliations, membership figures "
               "(as counts only), regions, sectors and the legal rule sets."), "registry", "registry"),
    Section("bargaining", N_("Bargaining"),
            N_("Negotiations and agreements (general, sectoral, regional, enterprise), bargaining commissions, "
               "proposals, signatures, disagreement protocols, and the tripartite commissions' sittings."),
            "bargaining", "bargaining"),
    Section("commissions", N_("Commissions"),
            N_("The tripartite commissions: their parties and members, sittings with agendas, decisions and minutes, "
               "consultations on drafts with each party's position, notices, and the board of what agreements "
               "promised (commitments)."), "bargaining", "bargaining"),
    Section("disputes", N_("Disputes"),
            N_("Collective labour disputes from demands to settlement, conciliation commissions, mediators and "
               "arbitrators, freedom-of-association complaints and their statutory deadlines."),
            "disputes", "disputes"),
    Section("notifications", N_("Notifications"),
            N_("Subscriptions, deliveries (webhook, e-mail, in-portal inbox), the delivery log and dead letters."),
            "notifications", "notifications"),
    Section("reports", N_("Reports"),
            N_("Figures across the services: agreements in force, disputes by stage, coverage by region and "
               "sector."), None, "reports"),
    Section("admin", N_("Administration"), N_("Staff accounts, API keys and clients, and the audit log."),
            needs_role=ADMINISTRATOR),
)
SECTION_BY_SLUG = {section.slug: section for section in SECTIONS}


def _state(request: Request) -> GatewayState:
    return request.app.state.gateway  # type: ignore[no-any-return]


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _secure(request: Request) -> bool:
    return bool(_state(request).settings.session_cookie_secure)


def language_of(request: Request) -> str:
    return i18n.choose_language(request.cookies.get(i18n.LANGUAGE_COOKIE), request.headers.get("accept-language"),
                                _state(request).settings.portal_default_language)


def translate(request: Request, message: str, **variables: Any) -> str:
    """``message`` in the request's language, with ``%(name)s`` placeholders filled in."""
    translated = i18n.translations(language_of(request)).gettext(message)
    return translated % variables if variables else translated


def _here(request: Request) -> str:
    """This page's local path and query: where the language switch comes back to (the dashboard
    after a form was posted, since only pages can be gone back to)."""
    if request.method != "GET":
        return "/"
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def render(request: Request, template: str, context: dict[str, Any], *, status: int = 200,
           signed_in: SignedIn | None = None, token: str | None = None) -> HTMLResponse:
    page = {"sections": SECTIONS, "api_prefix": API_PREFIX, "user": None, "csrf_token": None, "current": None,
            "lang": language_of(request), "languages": tuple(i18n.LANGUAGE_NAMES.items()), "here": _here(request),
            "inbox_unread": getattr(request.state, INBOX_UNREAD_STATE, None), **context}
    if signed_in is not None and token is not None:
        page["user"] = signed_in.account
        page["csrf_token"] = staff.csrf_token_of(token)
    return TEMPLATES.TemplateResponse(request, template, page, status_code=status, headers=PAGE_HEADERS)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303, headers=SECURITY_HEADERS)


def error_page(request: Request, status: int, title: str, detail: str, *,
               signed_in: SignedIn | None = None, token: str | None = None) -> HTMLResponse:
    """An error page; ``title`` and ``detail`` are already in the request's language (``translate``)."""
    return render(request, "error.html", {"title": title, "detail": detail}, status=status,
                  signed_in=signed_in, token=token)


def csrf_refused(request: Request) -> HTMLResponse:
    return error_page(request, 403, translate(request, N_("Form expired or forged")),
                      translate(request, N_("This form did not carry a valid security token, so nothing was done. "
                                            "Go back, reload the page and try again.")))


def _clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", secure=_secure(request), httponly=True, samesite="lax")


async def _current(request: Request, *, touch: bool = True) -> tuple[SignedIn, str] | None:
    """The signed-in staff member of this browser, and their session token. ``touch=False`` leaves
    the session's last-seen time alone (automatic refreshes must not keep an idle session alive)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    state = _state(request)
    async with state.sessionmaker() as session:
        signed_in = await staff.find_signed_in(session, token, policy=staff.policy_of(state.settings))
        if touch and signed_in is not None and session.dirty:
            await session.commit()
    if signed_in is None:
        return None
    if touch and request.method == "GET":
        setattr(request.state, INBOX_UNREAD_STATE, await _inbox_unread(request, signed_in))
    return signed_in, token


async def _inbox_unread(request: Request, signed_in: SignedIn) -> int | None:
    """How many inbox messages this person has not read, or None when the notifications service cannot say."""
    if "notifications" not in _state(request).settings.service_urls:
        return None
    setattr(request.state, upstream.IDENTITY_STATE, signed_in.identity)
    try:
        status, body = await upstream.call(request, "notifications", "GET", INBOX_UNREAD_PATH,
                                           timeout=INBOX_UNREAD_TIMEOUT_SECONDS)
    except upstream.ServiceUnavailable:
        return None
    count = body.get("unread") if status == 200 and isinstance(body, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else None


def _to_sign_in(request: Request) -> RedirectResponse:
    response = redirect("/sign-in")
    if request.cookies.get(SESSION_COOKIE):
        _clear_session_cookie(response, request)
    return response


async def _services(request: Request) -> tuple[bool, dict[str, Any], list[dict[str, Any]]]:
    ready, report = await readiness(_state(request))
    services = [
        {
            "name": name,
            "status": answer["status"],
            "ready": answer["status"] == "ready",
            "status_label": STATUS_LABELS.get(answer["status"]),
            "checks": answer["checks"],
            "docs": f"{API_PREFIX}/{name}/docs",
            "asyncapi": f"{API_PREFIX}/{name}/asyncapi.json",
        }
        for name, answer in report["services"].items()
    ]
    return ready, report["checks"], services


def _local_path(target: str | None) -> str:
    """``target`` if it is a path on this site, else ``/``: the language switch never sends a browser away."""
    if (not target or len(target) > LANGUAGE_NEXT_MAX or not target.startswith("/") or target.startswith("//")
            or "\\" in target or any(ord(character) < 0x20 or ord(character) == 0x7F for character in target)):
        return "/"
    return target


# --------------------------------------------------------------------------- public


@router.get("/status", response_class=HTMLResponse)
async def status_page(request: Request) -> HTMLResponse:
    ready, gateway_checks, services = await _services(request)
    return render(request, "status.html", {"ready": ready, "gateway_checks": gateway_checks, "services": services})


@router.get("/language/{code}", response_class=HTMLResponse)
async def choose_language(request: Request, code: str, next: str = "/") -> Response:
    """Remembers the chosen language in the ``ntc_lang`` cookie and goes back to the page (a local path)."""
    response = redirect(_local_path(next))
    if code in i18n.LANGUAGES:
        response.set_cookie(i18n.LANGUAGE_COOKIE, code, max_age=i18n.LANGUAGE_COOKIE_SECONDS, path="/",
                            secure=_secure(request), httponly=True, samesite="lax")
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request) -> Response:
    if await _current(request) is not None:
        return redirect("/")
    return _sign_in_page(request)


def _sign_in_page(request: Request, *, email: str = "", error: str | None = None, status: int = 200) -> HTMLResponse:
    form_token = request.cookies.get(SIGN_IN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    settings = _state(request).settings
    response = render(request, "sign_in.html", {
        "form_token": form_token, "email": email, "error": error, "oidc": settings.staff_auth_mode == "oidc",
        "lockout_attempts": settings.staff_lockout_attempts,
        "lockout_minutes": round(settings.staff_lockout_minutes),
    }, status=status)
    response.set_cookie(SIGN_IN_CSRF_COOKIE, form_token, max_age=SIGN_IN_CSRF_SECONDS, path="/sign-in",
                        secure=_secure(request), httponly=True, samesite="strict")
    return response


def _too_many_sign_ins(request: Request, limited: RateLimited) -> HTMLResponse:
    retry_after = limited.headers.get("Retry-After", "60")
    response = error_page(request, 429, translate(request, N_("Too many sign-in attempts")),
                          translate(request, N_("Too many sign-in attempts came from your network address. "
                                                "Wait %(seconds)s seconds and try again."), seconds=retry_after))
    response.headers.update(limited.headers)
    return response


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    try:  # counted before anything else: a refused attempt must not cost a password check
        _state(request).rate_limiter.admit_sign_in(request.scope)
    except RateLimited as limited:
        return _too_many_sign_ins(request, limited)
    if _state(request).settings.staff_auth_mode != "local":  # the identity provider checks who people are
        return error_page(request, 404, translate(request, N_("Not found")),
                          translate(request, N_("Passwords are not used here: sign in through the identity "
                                                "provider.")))
    form = await request.form()
    expected = request.cookies.get(SIGN_IN_CSRF_COOKIE)
    presented = str(form.get(CSRF_FIELD) or "")
    if not expected or not presented or not hmac.compare_digest(expected, presented):
        return csrf_refused(request)
    email, password = str(form.get("email") or "")[:254], str(form.get("password") or "")
    state = _state(request)
    async with state.sessionmaker() as session:
        try:
            signed_in, token = await staff.sign_in(
                session, email=email, password=password, policy=staff.policy_of(state.settings),
                address=_address(request), user_agent=request.headers.get("user-agent"))
        except staff.SignInRefused:
            await session.commit()  # the failed attempt, any lock-out and their audit rows
            return _sign_in_page(request, email=email.strip(), error=SIGN_IN_REFUSED, status=400)
        await session.commit()
    return _signed_in(request, signed_in, token)


def _signed_in(request: Request, signed_in: SignedIn, token: str) -> RedirectResponse:
    """To the dashboard, with the new session's cookie."""
    response = redirect("/")
    response.set_cookie(SESSION_COOKIE, token, max_age=int(signed_in.session.expires_at.timestamp()
                                                               - signed_in.session.created_at.timestamp()),
                        path="/", secure=_secure(request), httponly=True, samesite="lax")
    response.delete_cookie(SIGN_IN_CSRF_COOKIE, path="/sign-in", secure=_secure(request), httponly=True,
                           samesite="strict")
    return response


def _oidc_callback_url(request: Request) -> str:
    configured = _state(request).settings.oidc_redirect_url
    return configured or str(request.base_url).rstrip("/") + OIDC_CALLBACK_PATH


def _oidc_refused(request: Request) -> HTMLResponse:
    response = _sign_in_page(request, error=OIDC_REFUSED, status=400)
    response.delete_cookie(oidc.STATE_COOKIE, path=oidc.STATE_COOKIE_PATH, secure=_secure(request), httponly=True,
                           samesite="lax")
    return response


@router.get("/sign-in/oidc", response_class=HTMLResponse)
async def sign_in_with_provider(request: Request) -> Response:
    """Sends the browser to the identity provider (authorization code with PKCE)."""
    provider = _state(request).staff_oidc
    if provider is None:
        return redirect("/sign-in")
    try:
        url, kept = await provider.begin(_oidc_callback_url(request))
    except oidc.OidcRefused as refused:
        log.warning("identity provider unavailable", reason=refused.reason)
        return _oidc_refused(request)
    response = redirect(url)
    # SameSite=Lax: the provider's redirect back is a top-level GET, which Lax lets the cookie ride on.
    response.set_cookie(oidc.STATE_COOKIE, kept, max_age=oidc.STATE_SECONDS, path=oidc.STATE_COOKIE_PATH,
                        secure=_secure(request), httponly=True, samesite="lax")
    return response


@router.get(OIDC_CALLBACK_PATH, response_class=HTMLResponse)
async def sign_in_callback(request: Request) -> Response:
    """Where the provider sends the browser back: verify its answer, then open a session as a password would."""
    state = _state(request)
    provider = state.staff_oidc
    if provider is None:
        return redirect("/sign-in")
    try:
        state.rate_limiter.admit_sign_in(request.scope)
    except RateLimited as limited:
        return _too_many_sign_ins(request, limited)
    async with state.sessionmaker() as session:
        try:
            person = await provider.finish(redirect_uri=_oidc_callback_url(request),
                                           params=dict(request.query_params),
                                           cookie=request.cookies.get(oidc.STATE_COOKIE))
            signed_in, token = await staff.sign_in_verified(
                session, email=person.email, subject=person.subject, roles=person.roles, provider=provider.issuer,
                policy=staff.policy_of(state.settings), address=_address(request),
                user_agent=request.headers.get("user-agent"))
        except oidc.OidcRefused as refused:
            record(session, action="staff.sign_in_failed", actor=ANONYMOUS_ACTOR, address=_address(request),
                   detail={"method": "oidc", "reason": refused.reason})
            await session.commit()
            return _oidc_refused(request)
        except staff.SignInRefused:
            await session.commit()  # the audit row saying why
            return _oidc_refused(request)
        await session.commit()
    response = _signed_in(request, signed_in, token)
    response.delete_cookie(oidc.STATE_COOKIE, path=oidc.STATE_COOKIE_PATH, secure=_secure(request), httponly=True,
                           samesite="lax")
    return response


async def _sign_out(request: Request, *, everywhere: bool) -> Response:
    current = await _current(request)
    if current is None:
        return _to_sign_in(request)
    signed_in, token = current
    form = await request.form()
    if not staff.csrf_matches(token, str(form.get(CSRF_FIELD) or "")):
        return csrf_refused(request)
    state = _state(request)
    async with state.sessionmaker() as session:
        if everywhere:
            await staff.sign_out_everywhere(session, signed_in, address=_address(request))
        else:
            await staff.sign_out(session, signed_in, address=_address(request))
        await session.commit()
    response = redirect("/sign-in")
    _clear_session_cookie(response, request)
    return response


@router.post("/sign-out", response_class=HTMLResponse)
async def sign_out(request: Request) -> Response:
    return await _sign_out(request, everywhere=False)


@router.post("/sign-out-everywhere", response_class=HTMLResponse)
async def sign_out_everywhere(request: Request) -> Response:
    return await _sign_out(request, everywhere=True)


# --------------------------------------------------------------------------- signed in


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request) -> Response:
    current = await _current(request)
    if current is None:
        return _to_sign_in(request)
    language = language_of(request)
    setattr(request.state, upstream.IDENTITY_STATE, current[0].identity)  # the figures are asked as this person
    # The section modules build on this one, so the disputes panel's module is imported where it is used.
    from gateway.portal import commissions, disputes

    async def tension() -> dict[str, Any] | None:
        """Social tension by region, for staff who may read disputes (None: the panel is not theirs)."""
        if not set(disputes.READERS) & set(current[0].account.roles):
            return None
        return await disputes.social_tension(request, language,
                                             timeout=_state(request).settings.readiness_timeout_seconds)

    async def fulfilment() -> dict[str, Any] | None:
        """The share of commitments fulfilled, for staff who may read bargaining (None: not theirs)."""
        if not set(commissions.READERS) & set(current[0].account.roles):
            return None
        return await commissions.fulfilment(request, language,
                                            timeout=_state(request).settings.readiness_timeout_seconds)

    (ready, gateway_checks, services), registry, social_tension, commitments = await asyncio.gather(
        _services(request),
        figures.registry_headlines(request, language, lambda message: translate(request, message)), tension(),
        fulfilment())
    return render(request, "dashboard.html",
                  {"ready": ready, "gateway_checks": gateway_checks, "services": services, "current": None,
                   "checked_at": utcnow(), "refresh_url": "/", "registry": registry, "tension": social_tension,
                   "commitments": commitments,
                   "share": lambda value: figures.format_share(value, language)},
                  signed_in=current[0], token=current[1])


@router.get("/dashboard/services", response_class=HTMLResponse)
async def dashboard_services(request: Request) -> Response:
    """The dashboard's services table alone, which htmx fetches every few seconds."""
    current = await _current(request, touch=False)
    if current is None:  # htmx follows HX-Redirect; a plain visit follows the 303
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={**SECURITY_HEADERS, "HX-Redirect": "/sign-in"})
        return _to_sign_in(request)
    _, _, services = await _services(request)
    return render(request, "_services.html", {"services": services, "checked_at": utcnow(), "refresh_url": "/"},
                  signed_in=current[0], token=current[1])


def _forbidden(request: Request, current: tuple[SignedIn, str], role: str) -> HTMLResponse:
    return error_page(request, 403, translate(request, N_("Not allowed")),
                      translate(request, N_("This page is for staff with the %(role)s role. Your roles: %(roles)s."),
                                role=role,
                                roles=", ".join(current[0].account.roles) or translate(request, N_("none"))),
                      signed_in=current[0], token=current[1])


@router.get("/admin", response_class=HTMLResponse)
async def administration(request: Request) -> Response:
    current = await _current(request)
    if current is None:
        return _to_sign_in(request)
    if ADMINISTRATOR not in current[0].account.roles:
        return _forbidden(request, current, ADMINISTRATOR)
    return render(request, "admin.html", {"current": SECTION_BY_SLUG["admin"]}, signed_in=current[0],
                  token=current[1])


@router.get("/admin/audit", response_class=HTMLResponse)
async def audit_log(request: Request, page: int = 1) -> Response:
    current = await _current(request)
    if current is None:
        return _to_sign_in(request)
    if ADMINISTRATOR not in current[0].account.roles:
        return _forbidden(request, current, ADMINISTRATOR)
    page = max(page, 1)
    async with _state(request).sessionmaker() as session:
        events, total = await list_events(session, limit=AUDIT_PAGE_SIZE, offset=(page - 1) * AUDIT_PAGE_SIZE)
    pages = max(1, math.ceil(total / AUDIT_PAGE_SIZE))
    return render(request, "admin_audit.html",
                  {"events": events, "total": total, "page": page, "pages": pages,
                   "current": SECTION_BY_SLUG["admin"]}, signed_in=current[0], token=current[1])


def _section_route(section: Section) -> None:
    async def section_page(request: Request) -> Response:
        current = await _current(request)
        if current is None:
            return _to_sign_in(request)
        return render(request, "section.html", {"section": section, "current": section},
                      signed_in=current[0], token=current[1])

    router.add_api_route(f"/{section.slug}", section_page, methods=["GET"], response_class=HTMLResponse,
                         name=f"section_{section.slug}")


for _section in SECTIONS:
    # Their pages are in gateway.portal.<slug>.
    if _section.slug not in ("admin", "registry", "bargaining", "commissions", "disputes", "notifications"):
        _section_route(_section)
