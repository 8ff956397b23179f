"""``POST /oauth/token``: the client credentials grant (RFC 6749 §4.4).

The client authenticates with ``client_id`` and ``client_secret`` form fields or with HTTP
Basic (§2.3.1), never both. Errors are RFC 6749 §5.2 JSON (``{"error", "error_description"}``),
not problem documents: that is what OAuth client libraries read.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote_plus

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from gateway.api_clients import service
from gateway.limits import address_of

if TYPE_CHECKING:
    from gateway.app import GatewayState

log = structlog.get_logger(__name__)

router = APIRouter(tags=["oauth"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
GRANT_TYPE = "client_credentials"


class OAuthError(Exception):
    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status, self.error, self.description = status, error, description

    def response(self) -> JSONResponse:
        headers = dict(NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="ntc"'
        return JSONResponse({"error": self.error, "error_description": self.description},
                            status_code=self.status, headers=headers)


def _form(body: bytes, content_type: str) -> dict[str, str]:
    if content_type.split(";", 1)[0].strip().lower() != "application/x-www-form-urlencoded":
        raise OAuthError(400, "invalid_request", "Send the parameters as application/x-www-form-urlencoded.")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(400, "invalid_request", "The form is not readable.") from None
    repeated = sorted(name for name, values in fields.items() if len(values) > 1)
    if repeated:
        raise OAuthError(400, "invalid_request", f"Parameters sent more than once: {', '.join(repeated)}.")
    return {name: values[0] for name, values in fields.items()}


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if authorization is None:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic":
        raise OAuthError(401, "invalid_client", "Authenticate the client with HTTP Basic or form fields.")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError(401, "invalid_client", "The Basic credentials are not readable.") from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError(401, "invalid_client", "The Basic credentials are not readable.")
    return unquote_plus(client_id), unquote_plus(secret)  # §2.3.1: form-encoded before Base64


@router.post(
    "/oauth/token",
    summary="Exchange API client credentials for a short-lived bearer token (OAuth 2.0 client credentials)",
    responses={400: {"description": "invalid_request or unsupported_grant_type (RFC 6749 §5.2)"},
               401: {"description": "invalid_client (RFC 6749 §5.2)"}},
)
async def token(request: Request) -> JSONResponse:
    state: GatewayState = request.app.state.gateway
    try:
        form = _form(await request.body(), request.headers.get("content-type", ""))
        basic = _basic(request.headers.get("authorization"))
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "grant_type is required.")
        if grant_type != GRANT_TYPE:
            raise OAuthError(400, "unsupported_grant_type", f"Only {GRANT_TYPE} is supported.")
        in_form = "client_id" in form or "client_secret" in form
        if basic is not None and in_form:
            raise OAuthError(400, "invalid_request", "Authenticate the client one way: HTTP Basic or form fields.")
        client_id, secret = basic if basic is not None else (form.get("client_id", ""), form.get("client_secret", ""))
        if not client_id or not secret:
            raise OAuthError(401, "invalid_client", "Client authentication is required.")
        async with state.sessionmaker() as session:
            client = await service.authenticate_client(session, client_id, secret)
            if client is None:
                log.warning("api client refused", client_id=client_id[:64])
                state.rate_limiter.refused(request.scope)  # wrong secrets count against the address
                raise OAuthError(401, "invalid_client", "The client is unknown, revoked, or the secret is wrong.")
            assert state.client_tokens is not None
            access_token = state.client_tokens.issue(client)
            expires_in = state.client_tokens.expires_in
            service.record_token_issued(session, client, address=address_of(request.scope), expires_in=expires_in)
            await session.commit()
    except OAuthError as error:
        return error.response()
    return JSONResponse({"access_token": access_token, "token_type": "Bearer", "expires_in": expires_in},
                        headers=NO_STORE)
