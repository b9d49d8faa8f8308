"""What Salesforce answers when it is unwell: maintenance, edge and CDN pages, 500s."""

from __future__ import annotations

from ..wire.http import HttpResponse
from .responses import HTML, error


__all__ = [
    "CDN_503_PAGE",
    "EDGE_502_PAGE",
    "MAINTENANCE_PAGE",
    "READ_ONLY_MESSAGE",
    "maintenance_page",
    "server_error",
]

MAINTENANCE_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Down for Maintenance'
    '</title></head><body><div class="content"><h1>We are down for maintenance.</h1>'
    "<p>Sorry for the inconvenience. We'll be back shortly.</p></div></body></html>"
)
EDGE_502_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>502 Bad Gateway</title>'
    "</head><body><h1>Bad Gateway</h1><p>Salesforce Edge wasn't able to communicate"
    " successfully with the Salesforce instance.</p></body></html>"
)
CDN_503_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Service Not Available'
    "</title></head><body><h1>Service Not Available</h1><p>The server is temporarily"
    " unable to service your request. Please try again later.</p><p>This error"
    " originated from Salesforce CDN partner.</p></body></html>"
)
READ_ONLY_MESSAGE = (
    "Updates can't be made during maintenance. Try again when maintenance is complete."
)


def maintenance_page() -> HttpResponse:
    """503 with the HTML "We are down for maintenance" page."""
    return HttpResponse(503, MAINTENANCE_PAGE.encode(), HTML)


def server_error(status: int, serial: int) -> HttpResponse:
    """500 UNKNOWN_EXCEPTION JSON (with an ErrorId), a 502 edge page or a 503 CDN page."""
    if status == 500:  # noqa: PLR2004
        error_id = f"{1_234_560 + serial}-{serial % 100:02d} ({-(987_650 + serial)})"
        message = (
            "An unexpected error occurred. Please include this ErrorId if you contact"
            f" support: {error_id}"
        )
        return error(500, "UNKNOWN_EXCEPTION", message)
    page = EDGE_502_PAGE if status == 502 else CDN_503_PAGE  # noqa: PLR2004
    return HttpResponse(status, page.encode(), HTML)
