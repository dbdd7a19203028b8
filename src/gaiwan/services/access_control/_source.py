"""Where each policy of a Cedar file starts, so errors and explanations can name file and line.

Cedar (through cedarpy) reports parse errors without a position and validation errors by the
policy's position in the set (`policy3`), never by line. A policy file is a sequence of
statements ending in `;` outside strings and comments; splitting on those gives each policy's
first line, and parsing the statements one by one finds the one that does not parse. The
alternative, searching the text for `@id("...")`, fails for exactly the broken files that need
a line number most.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    line: int  # 1-based line of its first character that is not blank or comment
    text: str
    terminated: bool  # False for trailing text with no closing `;`


def statements(text: str) -> list[Statement]:
    """The file's statements in order (the n-th is Cedar's `policy<n>`)."""
    found: list[Statement] = []
    start = 0
    first: int | None = None
    line = 1
    i = 0
    in_string = False
    while i < len(text):
        ch = text[i]
        if in_string:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_string = False
        elif ch == "/" and text.startswith("//", i):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        elif ch == ";":
            found.append(Statement(first or line, text[start:i + 1], True))
            start, first = i + 1, None
        elif not ch.isspace() and first is None:
            first = line
            in_string = ch == '"'
        elif ch == '"':
            in_string = True
        if i < len(text) and text[i] == "\n":
            line += 1
        i += 1
    if first is not None:
        found.append(Statement(first, text[start:], False))
    return found
