# noqa: INP001  (a script nox runs, not a package)
"""Coverage-guided fuzzing of `classify` and the body parsers (atheris).

    nox -s fuzz                      # 200 000 runs
    nox -s fuzz -- -runs=2000000     # any libFuzzer flag

Any exception escaping `classify` or `parse_body` is a crash: atheris prints the
input and exits non-zero. The last line says how many inputs ran.
"""

from __future__ import annotations

import json
import sys

import atheris


with atheris.instrument_imports(include=["sfresilience"], enable_loader_override=False):
    from sfresilience import Classification, classify
    from sfresilience._classify._parse import parse_body


def _body(data: atheris.FuzzedDataProvider) -> object:
    shape = data.ConsumeIntInRange(0, 3)
    raw = data.ConsumeBytes(data.remaining_bytes())
    if shape == 0:
        return raw
    text = raw.decode("utf-8", "replace")
    if shape == 1:
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


RUNS = 0


def one_input(data: bytes) -> None:
    global RUNS  # noqa: PLW0603  (the harness counts what it ran)
    RUNS += 1
    provider = atheris.FuzzedDataProvider(data)
    status = provider.ConsumeIntInRange(0, 700) if provider.ConsumeBool() else None
    html_hint = provider.ConsumeBool()
    body = _body(provider)
    parse_body(body, html_hint=html_hint)
    if not isinstance(classify(status=status, body=body), Classification):
        raise TypeError("classify returned something else")


def main() -> None:
    arguments = sys.argv
    if not any(argument.startswith("-runs=") for argument in arguments):
        arguments = [*arguments, "-runs=200000"]
    atheris.Setup(arguments, one_input)
    try:
        atheris.Fuzz()
    finally:
        print(f"fuzz: {RUNS} executions of classify and parse_body", file=sys.stderr)  # noqa: T201


if __name__ == "__main__":
    main()
