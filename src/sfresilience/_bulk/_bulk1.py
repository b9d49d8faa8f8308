"""``client.bulk``: simple-salesforce's Bulk 1.0 handler, guarded, failed rows resubmitted.

The handler and type objects are simple-salesforce's (subclasses over a
:class:`GuardedSession`), so call shapes and results stay theirs. One thing is
ours: after a DML operation, the rows whose ``errors`` are transient
(``UNABLE_TO_LOCK_ROW``, ``UNKNOWN_EXCEPTION``, ...) are sent again in a
follow-up job under the retry policy, and their entries in the result list are
replaced by the follow-up's. Batch polling stays simple-salesforce's own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from simple_salesforce.bulk import SFBulkHandler, SFBulkType

from .._events import logger
from .._guard import Guard
from ._outcome import BulkOutcome, BulkResults, FailedRecord
from ._rows import RowPolicy
from ._transport import BATCHES, count_daily


_DML = frozenset({"insert", "update", "upsert", "delete", "hardDelete"})


class ResilientBulkHandler(SFBulkHandler):
    """``sf.bulk`` as simple-salesforce builds it; ``.<Object>`` gives a guarded type."""

    def __init__(self, sf: Any, session: Any, guard: Guard) -> None:
        super().__init__(sf.session_id, sf.bulk_url, sf.proxies, session)
        self._guard = guard

    def __getattr__(self, name: str) -> ResilientBulkType:
        if name.startswith("_"):
            raise AttributeError(name)
        return ResilientBulkType(name, self.bulk_url, self.headers, self.session, self._guard)

    def submit_dml(  # noqa: PLR0917  (simple-salesforce's signature)
        self,
        object_name: str,
        dml: str,
        data: Any,
        external_id_field: str | None = None,
        batch_size: int = 10000,
        use_serial: bool = False,
        bypass_results: bool = False,
        include_detailed_results: bool = False,
    ) -> Any:
        return getattr(self, object_name).submit_dml(
            dml,
            data,
            external_id_field,
            batch_size,
            use_serial,
            bypass_results,
            include_detailed_results,
        )


class ResilientBulkType(SFBulkType):
    """simple-salesforce's ``SFBulkType``; a DML result list also has ``.resilient``
    (a :class:`~sfresilience.BulkOutcome`)."""

    def __init__(
        self,
        object_name: str,
        bulk_url: str,
        headers: dict[str, str],
        session: Any,
        guard: Guard,
    ) -> None:
        super().__init__(object_name, bulk_url, headers, session)
        self._guard = guard
        self._job_ids: list[str] = []

    def _create_job(self, *args: Any, **kwargs: Any) -> Any:
        job = super()._create_job(*args, **kwargs)
        self._job_ids.append(str(job["id"]))
        return job

    def _add_batch(self, *args: Any, **kwargs: Any) -> Any:
        """simple-salesforce's; each batch is counted toward ``DailyBulkApiBatches``."""
        batch = super()._add_batch(*args, **kwargs)
        count_daily(self.session, BATCHES, 1)
        return batch

    def _bulk_operation(  # noqa: PLR0917  (simple-salesforce's signature)
        self,
        operation: str,
        data: Any,
        use_serial: bool = False,
        external_id_field: str | None = None,
        batch_size: int | str = 10000,
        wait: int = 5,
        bypass_results: bool = False,
        include_detailed_results: bool = False,
    ) -> Any:
        call = functools.partial(
            super()._bulk_operation,
            operation=operation,
            use_serial=use_serial,
            external_id_field=external_id_field,
            batch_size=batch_size,
            wait=wait,
            bypass_results=bypass_results,
            include_detailed_results=include_detailed_results,
        )
        if operation not in _DML or bypass_results:
            return call(data=data)
        load = _V1Load(self, operation, list(data), lambda rows: list(call(data=rows)))
        return load.go()


class _V1Load:
    """One Bulk 1.0 DML call: the first job, then follow-ups for transient row failures."""

    def __init__(
        self,
        owner: ResilientBulkType,
        operation: str,
        data: list[Any],
        run: Callable[[list[Any]], list[Any]],
    ) -> None:
        self.owner = owner
        self.operation = operation
        self.data = data
        self.run = run
        self.policy = RowPolicy(owner._guard, f"bulk {owner.object_name}.{operation}")  # noqa: SLF001
        self.attempts = [1] * len(data)
        self.retried: list[Any] = []
        self.first_job = len(owner._job_ids)  # noqa: SLF001
        self.job_of = [""] * len(data)

    def go(self) -> list[Any]:
        results = self.run(self.data)
        self.job_of = [self._last_job()] * len(self.data)
        if len(results) != len(self.data):
            # Not one result per row (simple-salesforce's 'auto' batching can drop
            # a last single row): positions can't be trusted, so resubmit nothing.
            logger.warning(
                "bulk %s: %d results for %d rows", self.operation, len(results), len(self.data)
            )
            return results
        pending = [i for i, result in enumerate(results) if self._transient(result)]
        while pending:
            attempt = self.policy.next_round([self._failure(results[i], i) for i in pending])
            if attempt is None:
                break
            rows = [self.data[i] for i in pending]
            self.retried.extend(rows)
            again = self.run(rows)
            if len(again) != len(rows):
                break
            for i, result in zip(pending, again, strict=True):
                results[i] = result
                self.attempts[i] = attempt
                self.job_of[i] = self._last_job()
            pending = [i for i in pending if self._transient(results[i])]
        return self._finish(results)

    def _finish(self, results: list[Any]) -> BulkResults:
        failed = [self._failure(r, i) for i, r in enumerate(results) if not _succeeded(r)]
        outcome = BulkOutcome(
            object_name=self.owner.object_name,
            operation=self.operation,
            total=len(self.data),
            succeeded=len(results) - len(failed),
            retried=tuple(self.retried),
            failed=tuple(failed),
            job_ids=tuple(self.owner._job_ids[self.first_job :]),  # noqa: SLF001
            aborted_job_ids=(),
        )
        return BulkResults(results, outcome)

    def _transient(self, result: Any) -> bool:
        return not _succeeded(result) and self.policy.classify(error_text(result)).retryable

    def _failure(self, result: Any, index: int) -> FailedRecord:
        error = error_text(result)
        classification = self.policy.classify(error)
        return FailedRecord(
            self.data[index], error, classification, self.job_of[index], self.attempts[index]
        )

    def _last_job(self) -> str:
        jobs = self.owner._job_ids  # noqa: SLF001
        return jobs[-1] if len(jobs) > self.first_job else ""


def _succeeded(result: Any) -> bool:
    return not isinstance(result, dict) or result.get("success") in {True, "true"}


def error_text(result: Any) -> str:
    """A Bulk 1.0 row's first error as Bulk 2.0 writes ``sf__Error``: ``CODE:message:fields --``."""
    errors = result.get("errors") if isinstance(result, dict) else None
    if not errors or not isinstance(errors[0], dict):
        return ""
    first = errors[0]
    fields = first.get("fields") or []
    return (
        f"{first.get('statusCode', '')}:{first.get('message', '')}:{','.join(map(str, fields))} --"
    )
