"""The REST errors the org raises, in Salesforce's own shapes."""

from __future__ import annotations


_NOT_FOUND = "The requested resource does not exist"


class ApiError(Exception):
    """A Salesforce REST error: rendered by the server as [{"message", "errorCode", "fields"}]."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
    ) -> None:
        super().__init__(f"{status} {error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = list(fields or [])

    def body(self) -> list[dict[str, object]]:
        """The JSON array Salesforce sends for this error."""
        return [
            {
                "message": self.message,
                "errorCode": self.error_code,
                "fields": list(self.fields),
            }
        ]


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", _NOT_FOUND)


def entity_is_deleted() -> ApiError:
    """What an update or delete of a record in the recycle bin gets."""
    return ApiError(404, "ENTITY_IS_DELETED", "entity is deleted")


def no_such_column(name: str, entity: str) -> ApiError:
    return ApiError(
        400,
        "INVALID_FIELD",
        f"No such column '{name}' on entity '{entity}'. If you are attempting to use "
        "a custom field, be sure to append the '__c' after the custom field name. "
        "Please reference your WSDL or the describe call for the appropriate names.",
        [name],
    )


def required_missing(names: list[str]) -> ApiError:
    return ApiError(
        400,
        "REQUIRED_FIELD_MISSING",
        f"Required fields are missing: [{', '.join(names)}]",
        names,
    )
