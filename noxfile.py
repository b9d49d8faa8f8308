"""Developer tasks: `nox` runs the tests; `nox -s lint typecheck docs` the gates."""

from __future__ import annotations

import pathlib
import tomllib

import nox


nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

PYPROJECT = tomllib.loads(pathlib.Path("pyproject.toml").read_text(encoding="utf-8"))


def _group(name: str) -> list[str]:
    return list(nox.project.dependency_groups(PYPROJECT, name))


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite against a real redis-server and the fake org."""
    session.install("-e", ".", *_group("tests"))
    session.run("pytest", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff: lint and formatting."""
    session.install(*_group("lint"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over the package and the tests."""
    session.install("-e", ".", *_group("typing"))
    session.run("mypy")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site; warnings are errors."""
    session.install("-e", ".", *_group("docs"))
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")


@nox.session
def bench(session: nox.Session) -> None:
    """Run benchmarks/bench_*.py side by side in one run; write docs/benchmarks.md."""
    session.install("-e", ".", *_group("bench"))
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """Run the incident drill against the embedded fake org."""
    session.install("-e", ".")
    session.run("sfresilience", "demo", *session.posargs)


@nox.session
def peer(session: nox.Session) -> None:
    """Drop-in check: simple-salesforce's behaviours, on its client and on it wrapped.

    Runs tests/peer (also part of `tests`). Given simple-salesforce checkouts
    (`nox -s peer -- PATH`), runs each one's own suite three times: as published,
    with every Salesforce it builds wrapped in testing mode, and wrapped with the
    full retry policy (tests/peer/wrap_salesforce.py does the wrapping).
    """
    session.install("-e", ".", *_group("tests"))
    session.run("pytest", "tests/peer")
    plugin_path = str(pathlib.Path("tests/peer").resolve())
    for checkout in session.posargs:
        session.install("-e", f"{checkout}[test]")
        with session.chdir(checkout):
            pytest = ("pytest", "-q", "-p", "no:cacheprovider", "--no-cov")
            session.run(*pytest)
            wrapped = (*pytest, "-p", "wrap_salesforce")
            session.run(*wrapped, env={"PYTHONPATH": plugin_path})
            retries = {"PYTHONPATH": plugin_path, "SFRESILIENCE_PEER_RETRIES": "1"}
            session.run(*wrapped, env=retries)


@nox.session
def fuzz(session: nox.Session) -> None:
    """Coverage-guided fuzzing (atheris) of classify and the body parsers; bounded runs.

    `nox -s fuzz -- -runs=1000000` for a longer run; any libFuzzer flag passes through.
    """
    session.install("-e", ".", "atheris>=2.3")
    args = session.posargs or ["-runs=50000", "-max_len=4096"]
    session.run("python", "fuzz/fuzz_classify.py", *args)


@nox.session
def mutation(session: nox.Session) -> None:
    """Mutation testing (mutmut) of redaction, the decision core and the classifier table.

    Configured under [tool.mutmut] in pyproject.toml; prints the surviving mutants.
    """
    session.install("-e", ".", "mutmut>=3.2", *_group("tests"))
    session.run("mutmut", "run", *session.posargs)
    session.run("mutmut", "results")


@nox.session
def audit(session: nox.Session) -> None:
    """pip-audit: known vulnerabilities in the runtime dependencies, from the package index."""
    session.install("-e", ".", "pip-audit>=2.7")
    # --strict: a dependency that could not be looked up fails the audit, never passes it.
    session.run("pip-audit", "--strict", "--skip-editable", "--progress-spinner", "off")


@nox.session
def chaos(session: nox.Session) -> None:
    """The fault matrix's long rows, then the multi-process soak (tests/chaos).

    `nox -s chaos -- --seconds 120 --workers 8` passes its arguments to the soak
    (`python -m tests.chaos.soak --help`); it prints its figures as JSON.
    """
    session.install("-e", ".", *_group("tests"))
    session.run("pytest", "tests/chaos", env={"SFRESILIENCE_CHAOS": "1"})
    soak = session.posargs or ["--seconds", "60", "--baseline", "20", "--workers", "8"]
    session.run("python", "-m", "tests.chaos.soak", *soak)
