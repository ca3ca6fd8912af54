"""Security headers on every response, and safe redirect targets."""

from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request, session

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    h.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
    if current_app.config["HSTS"]:
        h.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if _is_personal(response):
        # Anything answered to a signed-in person (pages, exports, JSON) can hold
        # personal data, and so can any page: never keep them in any cache, whatever
        # the view said.
        h["Cache-Control"] = "no-store"
    return response


def _is_personal(response: Response) -> bool:
    if request.endpoint == "static":
        return False  # the same stylesheet for everyone
    return (
        response.mimetype == "text/html"
        or "Content-Disposition" in response.headers
        or "_user_id" in session  # signed in, or just signed in by this request
    )


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths: no scheme, no host, no '//' or '\\' tricks."""
    if not target or len(target) > 500:
        return False
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def init_security(app: Flask) -> None:
    app.after_request(add_security_headers)
