"""Record data and query strings stay out of log lines and event reasons."""

from __future__ import annotations

from sfresilience._classify import classify
from sfresilience._events import Event, EventKind, describe
from sfresilience._logsafe import mask_record_data, safe_reason


_ECHO = (
    "\nSELECT Id FROM Contact WHERE Email = 'jane.doe@example.com'\n"
    "                                     ^\nERROR at Row:1:Column:38\n"
    "unexpected token: 'jane.doe@example.com'"
)


def test_the_echoed_query_and_quoted_literals_are_masked() -> None:
    shown = mask_record_data(_ECHO)
    assert "jane.doe" not in shown
    assert "SELECT" not in shown
    assert shown.startswith("[query omitted] ERROR at Row:1:Column:38")


def test_a_message_without_a_query_keeps_its_words() -> None:
    assert mask_record_data("Email: bad value 'x@y.z' for field") == (
        "Email: bad value '***' for field"
    )


def test_a_classified_log_line_shows_no_record_data() -> None:
    body = [{"errorCode": "MALFORMED_QUERY", "message": _ECHO}]
    c = classify(status=400, body=body)
    line = describe(Event(EventKind.CLASSIFIED, "query", 1, c))
    assert "MALFORMED_QUERY" in line
    assert "jane.doe" not in line


def test_a_reason_drops_the_url_query_string_and_secrets() -> None:
    text = (
        "500 Server Error for url: https://acme.my.salesforce.com/services/data/v59.0/"
        "query/?q=SELECT+Id+FROM+Contact+WHERE+Email%3D%27jane%40x.com%27 "
        "Authorization: Bearer 00D000000000001!AQ0AQH0dMHZfz972Szmpkb58urFRkgeBGsxL"
    )
    shown = safe_reason(text)
    assert "jane" not in shown
    assert "q=" not in shown
    assert "00D000000000001!" not in shown
    assert "/services/data/v59.0/query/" in shown


def test_a_served_from_cache_reason_quotes_no_query_string() -> None:
    from sfresilience import EventKind, ResilientClient, Settings  # noqa: PLC0415
    from sfresilience._fallback import fallback_of  # noqa: PLC0415
    from sfresilience.testing import FakeSalesforce  # noqa: PLC0415

    events: list[Event] = []
    soql = "SELECT Id FROM Contact WHERE Email = 'jane.doe@example.com'"
    with FakeSalesforce(contacts=3) as org:
        client = ResilientClient(
            org.client(), settings=Settings(retry_attempts=1), on_event=events.append
        )
        client.query(soql)
        assert fallback_of(client).flush(5)
        org.faults.outage()  # requests' error quotes the URL it could not reach
        client.query(soql)
    [served] = [e for e in events if e.kind is EventKind.SERVED_FROM_CACHE]
    reason = served.reason or ""
    assert "UNAVAILABLE" in reason
    assert "jane.doe" not in reason
    assert "q=" not in reason
