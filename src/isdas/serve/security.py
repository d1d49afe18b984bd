"""Access control and browser hardening: admin token, signed session cookie, CSRF, headers.

Stage: serve. Public pages and the API are read-only and open; analyst actions need the admin
token, either as `Authorization: Bearer <token>` (API) or a session cookie set by /login (forms,
which also carry a double-submit CSRF token). The token comes from $ISDAS_ADMIN_TOKEN or the file
`<home>/admin.token`; without one, analyst actions are refused. Must not log secrets.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from isdas.errors import AuthError, Forbidden, PayloadTooLarge
from isdas.settings import Settings

SESSION_COOKIE = "isdas_session"
CSRF_COOKIE = "isdas_csrf"
SESSION_SECONDS = 12 * 3600
FORM_LIMIT = 64 * 1024
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


def admin_token(settings: Settings) -> str | None:
    """The configured admin token ($ISDAS_ADMIN_TOKEN, else <home>/admin.token), or None."""
    token = os.environ.get("ISDAS_ADMIN_TOKEN", "").strip()
    if not token:
        path = settings.home / "admin.token"
        token = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    return token or None


def _key(token: str) -> bytes:
    return hashlib.sha256(b"isdas-session\0" + token.encode()).digest()


def make_session(token: str, now: float | None = None) -> str:
    """A session cookie value: expiry and its HMAC under a key derived from the token."""
    expiry = str(int((now or time.time()) + SESSION_SECONDS))
    sig = hmac.new(_key(token), expiry.encode(), hashlib.sha256).hexdigest()
    return f"{expiry}.{sig}"


def valid_session(token: str, value: str, now: float | None = None) -> bool:
    """True for an unexpired session cookie signed with this token."""
    expiry, _, sig = value.partition(".")
    if not expiry.isdigit() or int(expiry) < (now or time.time()):
        return False
    good = hmac.new(_key(token), expiry.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(good, sig)


def same(given: str, secret: str) -> bool:
    """Constant-time comparison of a submitted secret."""
    return hmac.compare_digest(given.encode(), secret.encode())


def is_admin(request: Request, token: str | None) -> bool:
    """Bearer token or valid session cookie."""
    if token is None:
        return False
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return same(auth[7:].strip(), token)
    return valid_session(token, request.cookies.get(SESSION_COOKIE, ""))


async def require_admin(request: Request, token: str | None) -> dict[str, Any]:
    """The form fields of an authorised analyst request; AuthError/Forbidden otherwise.

    Cookie-authenticated requests must carry the CSRF token (form field `csrf` or header
    `X-CSRF-Token`) equal to the CSRF cookie; bearer-token requests need none.
    """
    if token is None:
        raise Forbidden("analyst actions are disabled: set ISDAS_ADMIN_TOKEN or <home>/admin.token")
    if not is_admin(request, token):
        raise AuthError("login or an API token (Authorization: Bearer ...) is required")
    form = await form_fields(request)
    if not request.headers.get("authorization"):
        check_csrf(request, form.get("csrf", ""))
    return form


async def form_fields(request: Request) -> dict[str, str]:
    """Fields of a url-encoded form body (first value of each); {} for other bodies."""
    kind = request.headers.get("content-type", "")
    if not kind.startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    if len(body) > FORM_LIMIT:
        raise PayloadTooLarge(f"form body over {FORM_LIMIT} bytes")
    fields = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


def check_csrf(request: Request, submitted: str) -> None:
    """Double-submit check: the submitted token must equal the CSRF cookie."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    given = submitted or request.headers.get("x-csrf-token", "")
    if not cookie or not hmac.compare_digest(cookie.encode(), given.encode()):
        raise Forbidden("CSRF token missing or wrong; reload the page and try again")


class SecurityMiddleware:
    """Adds security headers and makes sure every browser holds a CSRF cookie."""

    def __init__(self, app: ASGIApp, token_source: Settings) -> None:
        self.app = app
        self.settings = token_source

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csrf, fresh = _csrf_of(scope)
        token = admin_token(self.settings)
        scope["isdas"] = {"csrf": csrf, "admin": is_admin(Request(scope), token), "token": token}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", [])) + HEADERS
                if fresh:
                    cookie = f"{CSRF_COOKIE}={csrf}; Path=/; SameSite=Strict; HttpOnly"
                    headers.append((b"set-cookie", cookie.encode()))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _csrf_of(scope: Scope) -> tuple[str, bool]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header: issue a fresh token
                break
            if CSRF_COOKIE in jar and len(jar[CSRF_COOKIE].value) >= 16:
                return jar[CSRF_COOKIE].value, False
    return secrets.token_urlsafe(24), True
