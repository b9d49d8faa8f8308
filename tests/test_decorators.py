"""critical, caller and resilient_query as decorators: signatures, methods, keys, nesting."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce.exceptions import SalesforceGeneralError

from sfresilience import ResilientClient, Settings, caller, critical, resilient_query
from sfresilience._decorators import current_caller, is_critical
from sfresilience._key_template import KeyTemplate, UnstableKey
from sfresilience.testing import FakeSalesforce


@pytest.fixture
def org() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(accounts=3, contacts=0) as fake:
        yield fake


def resilient(org: FakeSalesforce, attempts: int = 3) -> ResilientClient:
    return ResilientClient(
        org.client(), settings=Settings(retry_attempts=attempts), sleep=lambda _s: None
    )


def lookup(client: ResilientClient, name: str, limit: int = 5) -> list[str]:
    """Names of Accounts like *name*."""
    soql = f"SELECT Name FROM Account WHERE Name LIKE '{name}%' LIMIT {limit}"  # noqa: S608
    found = client.query(soql)
    return [record["Name"] for record in found["records"]]


DECORATORS = {
    "critical": critical,
    "critical()": critical(),
    "caller": caller,
    "caller(label)": caller("label"),
    "resilient_query": resilient_query(key="lookup:{name}:{limit}"),
}


class TestSignatures:
    @pytest.mark.parametrize("decorator", DECORATORS.values(), ids=DECORATORS.keys())
    def test_signature_name_doc_and_hints_are_kept(self, decorator: Any) -> None:
        decorated = decorator(lookup)
        assert inspect.signature(decorated) == inspect.signature(lookup)
        assert (lookup.__name__, lookup.__doc__) == (decorated.__name__, decorated.__doc__)
        assert typing.get_type_hints(decorated) == typing.get_type_hints(lookup)

    def test_methods_keep_working_and_self_is_bound(self, org: FakeSalesforce) -> None:
        class Service:
            def __init__(self, client: ResilientClient) -> None:
                self.client = client

            @critical
            def vital(self) -> bool:
                return is_critical()

            @caller
            def labelled(self) -> str:
                return current_caller()

            @resilient_query(key="names:{prefix}")
            def names(self, prefix: str) -> list[str]:
                return lookup(self.client, prefix)

        service = Service(resilient(org))
        assert service.vital()
        assert service.labelled().endswith("Service.labelled")
        assert len(service.names("")) == 3
        assert "prefix" in inspect.signature(service.names).parameters

    def test_mypy_sees_the_decorated_signature(self, tmp_path: Path) -> None:
        """A wrong call of a decorated function is a type error; a right one is not."""
        api = pytest.importorskip("mypy.api")
        source = tmp_path / "usage.py"
        source.write_text(
            "from sfresilience import ResilientClient, caller, critical, resilient_query\n"
            "@critical\n@caller('x')\n@resilient_query(key='a:{name}', ttl=60)\n"
            "def lookup(client: ResilientClient, name: str) -> list[str]:\n    return [name]\n"
            "def use(client: ResilientClient) -> None:\n"
            "    names: list[str] = lookup(client, 'Acme')\n"
            "    lookup(client, 42)\n"
        )
        config = tmp_path / "mypy.ini"
        config.write_text("[mypy]\n")
        out, _, status = api.run(
            ["--strict", "--no-incremental", "--config-file", str(config), str(source)]
        )
        assert 1 == status, out
        assert 'usage.py:9: error: Argument 2 to "lookup" has incompatible type "int"' in out
        assert "Found 1 error in 1 file" in out, out


class TestNesting:
    def test_nested_decorators_make_one_retry_loop(self, org: FakeSalesforce) -> None:
        """critical over caller over resilient_query: the client's attempts, not a product."""
        client = resilient(org, attempts=3)

        @critical
        @caller("account-page")
        @resilient_query(key="page:{name}", critical=True)
        def page(client: ResilientClient, name: str) -> list[str]:
            return lookup(client, name)

        org.faults.server_errors(probability=1.0)
        with pytest.raises(SalesforceGeneralError):
            page(client, "A")
        sent = [r for r in org.request_log if r.path.endswith("/query/")]
        assert 3 == len(sent)
        assert 3 == client.budget.by_caller["account-page"]

    def test_resilient_query_inside_resilient_query_runs_once(self, org: FakeSalesforce) -> None:
        client = resilient(org)
        runs: list[str] = []

        @resilient_query(key="inner:{name}")
        def inner(client: ResilientClient, name: str) -> list[str]:
            runs.append("inner")
            return lookup(client, name)

        @resilient_query(key="outer:{name}")
        def outer(client: ResilientClient, name: str) -> list[str]:
            runs.append("outer")
            return inner(client, name)

        assert len(outer(client, "")) == 3
        assert (["outer", "inner"], 1) == (
            runs,
            sum(1 for r in org.request_log if r.path.endswith("/query/")),
        )


def _template(key: str | None, function: Any = lookup) -> KeyTemplate:
    return KeyTemplate(key, inspect.signature(function), function.__qualname__)


@dataclasses.dataclass
class Region:
    code: str
    tags: set[str]


class Opaque:
    pass


class TestKeys:
    def test_unknown_parameter_is_refused_when_decorating(self) -> None:
        with pytest.raises(ValueError, match=r"\{region\} names no parameter of lookup .*name"):
            resilient_query(key="accounts:{region}")(lookup)

    @pytest.mark.parametrize("key", ["a:{}", "a:{0}", "a:{name", "a:{name:{limit}}"])
    def test_positional_broken_or_nested_fields_are_refused(self, key: str) -> None:
        with pytest.raises(ValueError, match=r"resilient_query\(key="):
            resilient_query(key=key)(lookup)

    @pytest.mark.parametrize("ttl", [-1, float("inf"), float("nan"), "600", True])
    def test_bad_ttl_is_refused(self, ttl: Any) -> None:
        with pytest.raises(ValueError, match="ttl"):
            resilient_query(ttl=ttl)

    def test_async_functions_are_refused(self) -> None:
        async def fetch(client: ResilientClient) -> int:
            return 1

        with pytest.raises(TypeError, match="async"):
            resilient_query()(fetch)

    def test_plain_values_format_as_format_does(self) -> None:
        rendered = _template("{name!r}:{limit:03d}").render({"name": "Acme", "limit": 7})
        assert "'Acme':007" == rendered

    def test_containers_are_canonical(self) -> None:
        def by(client: Any, filters: Any) -> None: ...

        template = _template("f:{filters}", by)
        one = template.render({"filters": {"b": [1, 2], "a": {"y", "x"}}})
        assert one == template.render({"filters": {"a": {"x", "y"}, "b": (1, 2)}})
        assert 'f:{"a":["x","y"],"b":[1,2]}' == one
        assert template.render({"filters": [1, 2]}) != template.render({"filters": [2, 1]})

    def test_dataclasses_and_attributes(self) -> None:
        def by(client: Any, region: Region) -> None: ...

        region = Region("CA", {"west", "coast"})
        assert "CA" == _template("{region.code}", by).render({"region": region})
        assert '{"code":"CA","tags":["coast","west"]}' == _template("{region}", by).render(
            {"region": region}
        )

    def test_objects_without_stable_text_are_refused(self) -> None:
        def by(client: Any, thing: Any) -> None: ...

        with pytest.raises(
            UnstableKey, match=r"\{thing\} of .*by is a Opaque, which has no stable text"
        ):
            _template("{thing}", by).render({"thing": Opaque()})

    def test_without_a_template_every_argument_but_self_and_clients(
        self, org: FakeSalesforce
    ) -> None:
        class Holder:
            def names(self, client: Any, name: str, limit: int = 5) -> None: ...

        template = KeyTemplate(
            None,
            inspect.signature(Holder.names),
            "Holder.names",
            skip=lambda v: isinstance(v, ResilientClient),
        )
        arguments = {"self": Holder(), "client": resilient(org), "name": "A", "limit": 5}
        assert '{"limit":5,"name":"A"}' == template.render(arguments)
