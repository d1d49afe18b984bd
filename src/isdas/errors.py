"""The one error tree of isdas.

Every failure a user can cause (bad input, bad request, missing data) is an `IsdasError`
subclass. The CLI maps them to exit codes, the HTTP layer to `{"ok": false, "error", "status"}`.
Library code never prints or exits.
"""

from __future__ import annotations


class IsdasError(Exception):
    """Base class: a failure with a message fit for the user."""

    exit_code = 1
    http_status = 500


class InputError(IsdasError):
    """Bad user input: arguments, settings, request parameters."""

    exit_code = 2
    http_status = 400


class CaptureError(IsdasError):
    """A capture file (or log) cannot be read; names the file and byte offset when known."""

    exit_code = 3
    http_status = 422

    def __init__(self, message: str, *, path: str | None = None, offset: int | None = None):
        self.path = path
        self.offset = offset
        where = ""
        if path is not None:
            where = f"{path}"
            if offset is not None:
                where += f" at byte {offset}"
            where += ": "
        super().__init__(f"{where}{message}")


class TruncatedCapture(CaptureError):
    """The capture ended inside a record; every complete record before `offset` was read."""


class StoreError(IsdasError):
    """The lake or catalog cannot be read or written."""

    exit_code = 4
    http_status = 503


class NotFound(IsdasError):
    """A named thing (sensor, detection, alert, port) does not exist."""

    exit_code = 5
    http_status = 404


class AuthError(IsdasError):
    """Missing or wrong credentials."""

    exit_code = 6
    http_status = 401


class Forbidden(IsdasError):
    """Valid credentials without the right (for example a revoked sensor token)."""

    exit_code = 6
    http_status = 403


class PayloadTooLarge(IsdasError):
    """A request body or record over the configured limit."""

    exit_code = 2
    http_status = 413


class ValidationError(IsdasError):
    """A well-formed request whose content is not acceptable (schema, sizes, time sanity)."""

    exit_code = 2
    http_status = 422
