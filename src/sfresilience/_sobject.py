"""``SObject``: simple-salesforce's ``SFType``, with every call guarded."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from simple_salesforce.api import SFType

from . import _client  # the two refer to each other; _client is complete by call time
from ._lockqueue import record_written


if TYPE_CHECKING:
    from ._client import ResilientClient


# Methods whose repetition is harmless, so they are retried even after a failure
# that may have reached Salesforce: reads. No write is: a POST may create the
# record twice, a second DELETE fails on the first one's work, and an update
# whose first copy is still on its way can land after a newer write and undo it
# ("PATCH sets the same values again" only holds in order).
_REPEATABLE = frozenset(
    {"get", "get_by_custom_id", "describe", "describe_layout", "metadata", "deleted", "updated"}
    | {"get_base64"}
)

# Reads whose results the fallback cache keeps (to serve while Salesforce is down).
_KEPT = frozenset({"get", "get_by_custom_id", "describe"})

# Public SFType functions that never reach Salesforce.
_LOCAL = frozenset({"parse_result_to_json"})


class SObject(SFType):
    """A guarded ``SFType``: what ``client.Contact`` returns.

    It *is* an :class:`simple_salesforce.api.SFType` (``isinstance`` holds, the
    same methods, arguments and return values), and each call that reaches
    Salesforce runs under the client's guard. Build one yourself where code
    builds ``SFType(...)`` directly::

        contacts = SObject("Contact", client)   # instead of SFType("Contact", sid, host, ...)

    Args:
        object_name: the sObject's API name, e.g. ``"Contact"`` or ``"Invoice__c"``.
        client: the :class:`~sfresilience.ResilientClient` whose guard, session
            and settings it uses.
    """

    salesforce: ResilientClient

    def __init__(self, object_name: str, client: ResilientClient) -> None:
        if not isinstance(client, _client.ResilientClient):
            raise TypeError(
                f"SObject needs a ResilientClient, not {type(client).__name__}: "
                "wrap the client first, ResilientClient(sf)"
            )
        sf = client.wrapped
        # The arguments simple-salesforce's Salesforce.__getattr__ passes.
        super().__init__(
            object_name,
            sf.session_id,
            sf.sf_instance,
            sf_version=sf.sf_version,
            proxies=sf.proxies,
            session=sf.session,
            salesforce=client,
            object_pairs_hook=sf._object_pairs_hook,  # noqa: SLF001
        )
        self._sfresilience_instance = sf.sf_instance

    @property
    def session_id(self) -> str:
        """The client's session id now (read past the proxy: this is on every call)."""
        return str(self.salesforce.__wrapped__.session_id)

    def _follow_the_session(self) -> SObject:
        """Point at the client's instance again if a refresh moved it."""
        sf = self.salesforce.__wrapped__
        if sf.sf_instance != self._sfresilience_instance:
            self.base_url = f"{sf.base_url}sobjects/{self.name}/"
            self._sfresilience_instance = sf.sf_instance
        return self

    def __repr__(self) -> str:
        return f"<SObject {self.name} of {self.salesforce!r}>"


def _guarded(name: str, unguarded: Callable[..., Any]) -> Callable[..., Any]:
    repeatable = name in _REPEATABLE
    kept = name in _KEPT

    @functools.wraps(unguarded)
    def method(self: SObject, *args: Any, **kwargs: Any) -> Any:
        operation = f"{self.name}.{name}"
        client = self.salesforce
        return client._call(  # noqa: SLF001
            operation,
            lambda: unguarded(self._follow_the_session(), *args, **kwargs),
            repeatable=repeatable,
            record=record_written(name, args, kwargs),
            key=client._cache_key(operation, args, kwargs) if kept else None,  # noqa: SLF001
        )

    return method


# Every public method of the installed SFType is guarded, so one that a later
# simple-salesforce adds is guarded too (as a write that is never repeated).
for _name, _function in vars(SFType).items():
    if not _name.startswith("_") and _name not in _LOCAL and inspect.isfunction(_function):
        setattr(SObject, _name, _guarded(_name, _function))
