"""Codes of requests Salesforce refuses: code bugs and rejected data."""

from __future__ import annotations

from typing import Final

from sfresilience._classify._model import ErrorCategory
from sfresilience._classify._rules import CodeEntry, _e


C = ErrorCategory

_ROLLED_BACK = (
    "Rolled back because another record or subrequest failed: fix that error, "
    "then resend the whole request."
)
_BULK_INPUT = "The Bulk job or batch content is invalid: fix it; do not retry."

REQUEST_CODES: Final[tuple[CodeEntry, ...]] = (
    # --- code bugs ------------------------------------------------------------
    _e(
        "MALFORMED_QUERY",
        C.INVALID_REQUEST,
        "Fix the SOQL: this is a code bug; do not retry.",
    ),
    _e(
        "INVALID_FIELD",
        C.INVALID_REQUEST,
        "Fix the query or field name (or grant field-level access): this is a "
        "code bug; do not retry.",
    ),
    _e(
        "INVALID_TYPE",
        C.INVALID_REQUEST,
        "Fix the sObject name (or grant the integration user the object): this "
        "is a code bug; do not retry.",
    ),
    _e(
        "MALFORMED_ID",
        C.INVALID_REQUEST,
        "Send a valid 15- or 18-character id of the right object; do not retry.",
    ),
    _e(
        "INVALID_ID_FIELD",
        C.INVALID_REQUEST,
        "The id or external-id field does not fit this object or operation: fix "
        "the call; do not retry.",
    ),
    _e(
        "INVALID_QUERY_FILTER_OPERATOR",
        C.INVALID_REQUEST,
        "Use a filter operator valid for the field's type: code bug; do not retry.",
    ),
    _e(
        "INVALID_SEARCH",
        C.INVALID_REQUEST,
        "Fix the SOSL search: code bug; do not retry.",
    ),
    _e(
        "EXCEEDED_ID_LIMIT",
        C.INVALID_REQUEST,
        "Send fewer ids per call (chunk them, at most 2,000); do not retry as is.",
    ),
    _e(
        "INVALID_QUERY_LOCATOR",
        C.INVALID_REQUEST,
        "The query cursor expired or was used up: re-run the query from the "
        "start instead of calling query_more again.",
    ),
    _e(
        "JSON_PARSER_ERROR",
        C.INVALID_REQUEST,
        "Fix the request body's JSON: code bug; do not retry.",
    ),
    _e(
        "METHOD_NOT_ALLOWED",
        C.INVALID_REQUEST,
        "Use an HTTP method the resource supports: code bug; do not retry.",
    ),
    _e(
        "INVALID_OPERATION",
        C.INVALID_REQUEST,
        "The operation is not valid for this object or state: fix the call; do not retry.",
    ),
    _e(
        "REQUEST_RUNNING_TOO_LONG",
        C.INVALID_REQUEST,
        "The request ran past Salesforce's time limit: make it smaller (fewer "
        "records, selective filters) instead of retrying it.",
    ),
    _e(
        "UNSUPPORTED_API_VERSION",
        C.INVALID_REQUEST,
        "The API version is retired or unknown here: move to a supported version.",
        severity="P1",
    ),
    _e(
        "APEX_ERROR",
        C.INVALID_REQUEST,
        "An unhandled exception in the org's Apex REST code: fix that Apex; do not retry.",
        carrier=True,
    ),
    _e(
        "QUERY_TOO_COMPLICATED",
        C.INVALID_REQUEST,
        "The query selects too many fields or its filter is too complex: select fewer "
        "fields (no formula-heavy ones) or split it; do not retry as is.",
    ),
    _e(
        "OPERATION_TOO_LARGE",
        C.INVALID_REQUEST,
        "The operation touches too many records for a synchronous call: narrow it or "
        "use the Bulk API; do not retry as is.",
    ),
    _e(
        "LIMIT_EXCEEDED",
        C.INVALID_REQUEST,
        "A per-request limit was exceeded (too many items in one call): send fewer per "
        "request; do not retry as is.",
    ),
    _e(
        "EXCEEDED_MAX_SEMIJOIN_SUBSELECTS",
        C.INVALID_REQUEST,
        "The query has too many semi-join subselects: restructure it; do not retry.",
    ),
    _e("InvalidEntity", C.INVALID_REQUEST, _BULK_INPUT),
    _e("InvalidBatch", C.INVALID_REQUEST, _BULK_INPUT),
    _e("ClientInputError", C.INVALID_REQUEST, _BULK_INPUT),
    _e("InvalidJob", C.INVALID_REQUEST, _BULK_INPUT),
    _e(
        "InvalidJobState",
        C.INVALID_REQUEST,
        "The Bulk job is closed, aborted or not open for this call: create a new "
        "job; do not retry.",
    ),
    _e("InvalidOperation", C.INVALID_REQUEST, _BULK_INPUT),
    _e("InvalidUrl", C.INVALID_REQUEST, _BULK_INPUT),
    _e("InvalidXML", C.INVALID_REQUEST, _BULK_INPUT),
    # --- rejected data --------------------------------------------------------
    _e(
        "REQUIRED_FIELD_MISSING",
        C.DATA_REJECTED,
        "Fill the required field the message names; do not retry unchanged.",
    ),
    _e(
        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        C.DATA_REJECTED,
        "A validation rule rejected the record: fix the data, or ask the admin "
        "about the rule quoted in the message; do not retry unchanged.",
    ),
    _e(
        "FIELD_FILTER_VALIDATION_EXCEPTION",
        C.DATA_REJECTED,
        "A lookup filter rejected the referenced record: point at a record the filter allows.",
    ),
    _e(
        "FIELD_INTEGRITY_EXCEPTION",
        C.DATA_REJECTED,
        "A field value breaks an integrity rule (wrong record type, bad reference): fix the value.",
    ),
    _e(
        "DUPLICATE_VALUE",
        C.DATA_REJECTED,
        "A unique field already holds this value: upsert on that field or dedupe "
        "first; do not retry unchanged.",
    ),
    _e(
        "DUPLICATE_EXTERNAL_ID",
        C.DATA_REJECTED,
        "The external id matches several records, or repeats in one request: dedupe it.",
    ),
    _e(
        "DUPLICATES_DETECTED",
        C.DATA_REJECTED,
        "A duplicate rule blocked the save: match the existing record or send "
        "the duplicate-rule header; do not retry unchanged.",
    ),
    _e(
        "INVALID_CROSS_REFERENCE_KEY",
        C.DATA_REJECTED,
        "A lookup id points at a record that does not exist or has the wrong "
        "type: fix the reference.",
    ),
    _e(
        "STRING_TOO_LONG",
        C.DATA_REJECTED,
        "Truncate the value to the field's length; do not retry unchanged.",
    ),
    _e(
        "NUMBER_OUTSIDE_VALID_RANGE",
        C.DATA_REJECTED,
        "The number does not fit the field's precision: fix the value.",
    ),
    _e(
        "INVALID_EMAIL_ADDRESS",
        C.DATA_REJECTED,
        "Fix the e-mail address; do not retry unchanged.",
    ),
    _e(
        "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        C.DATA_REJECTED,
        "Send a value the restricted picklist allows; do not retry unchanged.",
    ),
    _e(
        "INVALID_FIELD_FOR_INSERT_UPDATE",
        C.DATA_REJECTED,
        "The field cannot be written by this operation (formula, system or "
        "read-only field): drop it from the payload.",
    ),
    _e(
        "ENTITY_IS_LOCKED",
        C.DATA_REJECTED,
        "The record is locked by an approval process (not a row lock): finish "
        "or recall the approval; retrying cannot help.",
    ),
    _e(
        "ENTITY_IS_DELETED",
        C.DATA_REJECTED,
        "The record is in the recycle bin: undelete it or stop referencing it.",
    ),
    _e(
        "INVALID_TYPE_ON_FIELD_IN_RECORD",
        C.DATA_REJECTED,
        "A field value has the wrong type for the field: fix the value; do not retry unchanged.",
    ),
    _e(
        "ENTITY_FAILED_IFLASTMODIFIED_ON_UPDATE",
        C.DATA_REJECTED,
        "The record changed since it was read (If-Unmodified-Since failed): re-read it "
        "and reapply the change.",
    ),
    _e(
        "INACTIVE_OWNER_OR_USER",
        C.DATA_REJECTED,
        "The record's owner or a referenced user is inactive: assign an active user.",
    ),
    _e(
        "CANNOT_UPDATE_CONVERTED_LEAD",
        C.DATA_REJECTED,
        "The lead is converted and read-only: update the contact, account or "
        "opportunity it became instead.",
    ),
    _e(
        "DELETE_FAILED",
        C.DATA_REJECTED,
        "The record cannot be deleted (it is referenced or protected): remove "
        "the references first.",
    ),
    _e(
        "STORAGE_LIMIT_EXCEEDED",
        C.DATA_REJECTED,
        "The org's data or file storage is full: free or buy storage; every "
        "insert fails until then.",
        severity="P1",
    ),
    _e(
        "CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY",
        C.DATA_REJECTED,
        "A trigger or process on the record failed: read the nested error in "
        "the message; fix the automation or the data.",
        carrier=True,
    ),
    _e(
        "CANNOT_EXECUTE_FLOW_TRIGGER",
        C.DATA_REJECTED,
        "A record-triggered flow failed: read the nested error in the message; "
        "fix the flow or the data.",
        carrier=True,
    ),
    _e("ALL_OR_NONE_OPERATION_ROLLED_BACK", C.DATA_REJECTED, _ROLLED_BACK, carrier=True),
    _e("PROCESSING_HALTED", C.DATA_REJECTED, _ROLLED_BACK, carrier=True),
    _e("BATCH_PROCESSING_HALTED", C.DATA_REJECTED, _ROLLED_BACK, carrier=True),
)
