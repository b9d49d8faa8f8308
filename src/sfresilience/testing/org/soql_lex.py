"""The SOQL lexer of the fake Salesforce: text to tokens (`soql.py` parses them)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .soql_ast import malformed


__all__ = ["KEYWORDS", "Token", "tokenize"]


KEYWORDS = frozenset(
    {
        "AND",
        "ASC",
        "BY",
        "DESC",
        "FALSE",
        "FIRST",
        "FOR",
        "FROM",
        "EXCLUDES",
        "INCLUDES",
        "GROUP",
        "HAVING",
        "IN",
        "LAST",
        "LIKE",
        "LIMIT",
        "NOT",
        "NULL",
        "NULLS",
        "OFFSET",
        "OR",
        "ORDER",
        "SELECT",
        "TRUE",
        "WHERE",
        "WITH",
    }
)
_TOKEN_RE = re.compile(
    r"""
     (?P<ws>\s+)
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})(?![\w:])
    |(?P<number>[+-]?\d+(?:\.\d+)?)(?!\w)
    |(?P<dateliteral>[A-Za-z_]\w*:\d+)(?!\w)
    |(?P<ident>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    |(?P<string>')
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}


@dataclass(frozen=True)
class Token:
    """One lexeme with its decoded value and its offset in the query text."""

    kind: str
    text: str
    offset: int
    value: object = None
    like: str | None = None

    def is_keyword(self, *words: str) -> bool:
        """Whether this is one of the given keywords, ignoring case."""
        return self.kind == "ident" and self.text.upper() in words


def _read_string(soql: str, start: int) -> tuple[Token, int]:
    """Decode a quoted literal from the quote at `start`; return it and the end."""
    chars: list[str] = []
    pattern: list[str] = []
    index = start + 1
    while index < len(soql):
        char = soql[index]
        if char == "'":
            text = soql[start : index + 1]
            token = Token("string", text, start, "".join(chars), "".join(pattern))
            return token, index + 1
        if char == "\\":
            escaped = soql[index + 1 : index + 2]
            if escaped in _ESCAPES:
                decoded = _ESCAPES[escaped]
            elif escaped in {"'", '"', "\\", "%", "_"}:
                decoded = escaped
            else:
                raise malformed(
                    soql,
                    index,
                    f"Invalid string literal '{soql[start + 1 : index + 2]}'. "
                    f"Illegal character sequence '\\{escaped}' in string literal.",
                )
            chars.append(decoded)
            pattern.append(re.escape(decoded))
            index += 2
            continue
        chars.append(char)
        pattern.append({"%": ".*", "_": "."}.get(char, re.escape(char)))
        index += 1
    raise malformed(soql, len(soql), "mismatched character '<EOF>' expecting '''")


def tokenize(soql: str) -> list[Token]:
    """Split a query into tokens, ending with an <EOF> token."""
    tokens: list[Token] = []
    position = 0
    while position < len(soql):
        match = _TOKEN_RE.match(soql, position)
        if match is None:
            raise malformed(soql, position, f"unexpected token: {soql[position]}")
        kind = match.lastgroup or ""
        if kind == "string":
            token, position = _read_string(soql, position)
            tokens.append(token)
            continue
        text = match.group()
        if kind != "ws":
            tokens.append(Token(kind, text, position, _literal_value(kind, text)))
        position = match.end()
    # Salesforce points one column past the end for a missing token.
    tokens.append(Token("eof", "<EOF>", len(soql.rstrip()) + 1))
    return tokens


def _literal_value(kind: str, text: str) -> object:
    if kind == "number":
        return float(text) if "." in text else int(text)
    if kind == "date":
        return dt.date.fromisoformat(text)
    if kind == "datetime":
        return dt.datetime.fromisoformat(text)
    return None
