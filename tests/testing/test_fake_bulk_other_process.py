"""A Bulk 2.0 job run by another process that has nothing but `fake.env()`."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from sfresilience.testing import FakeSalesforce


CURL = shutil.which("curl")
V = "v59.0"

BULK_SCRIPT = """
import json, os
from simple_salesforce import Salesforce

sf = Salesforce(
    instance_url=os.environ["SF_INSTANCE_URL"], session_id=os.environ["SF_ACCESS_TOKEN"]
)
[job] = sf.bulk2.Contact.insert(
    records=[{"LastName": "Other-Process"}, {"FirstName": "No last name"}], wait=0
)
failed = sf.bulk2.Contact.get_failed_records(job["job_id"])
pages = list(sf.bulk2.Contact.query("SELECT Id FROM Contact", max_records=40, wait=0))
print(json.dumps({"job": job, "failed": failed, "pages": len(pages)}))
"""


@pytest.fixture
def tls_fake() -> Iterator[FakeSalesforce]:
    with FakeSalesforce(tls=True, contacts=100) as running:
        yield running


def _only(env: dict[str, str]) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), **env}


def test_simple_salesforce_bulk2_from_another_process(tls_fake: FakeSalesforce) -> None:
    """An unmodified client in a fresh interpreter inserts and queries through Bulk 2.0."""
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", BULK_SCRIPT],
        env=_only(tls_fake.env()),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert 0 == result.returncode, result.stderr
    seen = json.loads(result.stdout)
    assert (2, 1, 3) == (
        seen["job"]["numberRecordsProcessed"],
        seen["job"]["numberRecordsFailed"],
        seen["pages"],
    )
    assert "REQUIRED_FIELD_MISSING" in seen["failed"]
    stored = [r for r in tls_fake.org.records("Contact") if r["LastName"] == "Other-Process"]
    assert 1 == len(stored)


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_curl_runs_a_bulk2_ingest_job(tls_fake: FakeSalesforce) -> None:
    """create, PUT CSV, UploadComplete, poll and results, all with curl."""
    env = tls_fake.env()
    jobs = f"{env['SF_INSTANCE_URL']}/services/data/{V}/jobs/ingest"

    def curl(*args: str, data: str | None = None) -> str:
        result = subprocess.run(  # noqa: S603 - curl with fixed arguments
            [
                str(CURL),
                "--silent",
                "--show-error",
                "--fail-with-body",
                "-H",
                f"Authorization: Bearer {env['SF_ACCESS_TOKEN']}",
                *args,
            ],
            input=data,
            env=_only(env),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert 0 == result.returncode, result.stderr
        return result.stdout

    json_type = ("-H", "Content-Type: application/json")
    job = json.loads(
        curl(*json_type, "--data", '{"object": "Contact", "operation": "insert"}', jobs)
    )
    curl(
        "-X",
        "PUT",
        "-H",
        "Content-Type: text/csv",
        "--data-binary",
        "@-",
        f"{jobs}/{job['id']}/batches",
        data="LastName,Email\nCurl-Bulk,curl@example.com\n",
    )
    closed = json.loads(
        curl(
            "-X",
            "PATCH",
            *json_type,
            "--data",
            '{"state": "UploadComplete"}',
            f"{jobs}/{job['id']}",
        )
    )
    info = json.loads(curl(f"{jobs}/{job['id']}"))
    [row] = list(csv.DictReader(io.StringIO(curl(f"{jobs}/{job['id']}/successfulResults/"))))
    assert ("Open", "UploadComplete", "JobComplete", 1) == (
        job["state"],
        closed["state"],
        info["state"],
        info["numberRecordsProcessed"],
    )
    assert ("true", "Curl-Bulk") == (row["sf__Created"], row["LastName"])
    assert (
        "curl@example.com" == tls_fake.org.get("Contact", row["sf__Id"], ["Email"], "59.0")["Email"]
    )
