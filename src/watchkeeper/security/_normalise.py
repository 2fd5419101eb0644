"""Turn what a client sent into the one form the rules are written against.

Attackers hide payloads behind encodings the application will undo later: percent
encoding (twice or three times), ``%uXXXX``, HTML entities, JS/JSON ``\\uXXXX`` escapes,
full-width Unicode, mixed case, SQL comments as spaces. The rules see text with all of
that undone, lower-cased, with runs of blanks collapsed. Input is cut at a budget first,
so the cost of a request is bounded whatever it carries.
"""

from __future__ import annotations

import html
import re
import unicodedata
from urllib.parse import unquote

__all__ = ["normalise", "normalise_query", "nothing_to_undo", "split_query"]

_MAX_ROUNDS = 3  # %25252e: three layers is what the public payload lists use
_IIS_UNICODE = re.compile(r"%u([0-9a-fA-F]{4})")
_ESCAPES = re.compile(r"\\(?:u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2}))")
_VERSION_COMMENT = re.compile(r"/\*!\d{0,6}")
_BLANKS = re.compile(r"[ \t\r\f\v\u00a0]+")
# Slashes and dots NFKC leaves alone but file systems and parsers may not.
_LOOKALIKES = str.maketrans({"\u2215": "/", "\u2044": "/", "\u29f8": "/", "\u2216": "\\",
                             "\u29f5": "\\", "\u29f9": "\\", "\u2024": ".", "\ufe52": "."})
_SURROGATES = re.compile("[\ud800-\udfff]")


def nothing_to_undo(text: str) -> bool:
    """No escape, entity, comment, control blank or double blank in ASCII ``text``.
    (Ten substring tests cost a quarter of one regex search over a typical query.)"""
    return not ("%" in text or "&" in text or "\\" in text or "  " in text
                or "*/" in text or "\t" in text or "\r" in text or "\x00" in text
                or "\f" in text or "\v" in text)


def _char(code: int) -> str:
    # A lone surrogate (an escaped \\ud800) is no text: no engine can encode it, so it
    # becomes the replacement character like any other invalid input.
    return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)


def _escape(match: re.Match[str]) -> str:
    return _char(int(match.group(1) or match.group(2), 16))


def _iis(match: re.Match[str]) -> str:
    return _char(int(match.group(1), 16))


def normalise(text: str, limit: int = 8192, *, plus_is_space: bool = False) -> str:
    """The canonical, lower-case form of ``text`` (at most ``limit`` input characters).

    Never raises: invalid UTF-8 behind percent escapes becomes U+FFFD, which is itself a
    signal (overlong ``%c0%af`` slashes decode to it).

    Example::

        >>> normalise("%253Cscript%253E")
        '<script>'
    """
    if len(text) > limit:
        text = text[:limit]
    if plus_is_space and "+" in text:
        text = text.replace("+", " ")
    if text.isascii() and nothing_to_undo(text):
        return text.lower()  # the common case
    for _ in range(_MAX_ROUNDS):
        if "%" not in text:
            break
        decoded = unquote(_IIS_UNICODE.sub(_iis, text), errors="replace")
        if decoded == text:
            break
        text = decoded
    if "&" in text:
        text = html.unescape(text)
    if "\\" in text:
        text = _ESCAPES.sub(_escape, text)
        if "%" in text or "&" in text:  # an escape that hid another layer
            text = html.unescape(unquote(text, errors="replace"))
    if not text.isascii():
        text = _SURROGATES.sub("\ufffd", unicodedata.normalize("NFKC", text)
                               ).translate(_LOOKALIKES)
    text = text.casefold()
    if "\x00" in text:
        text = text.replace("\x00", "")
    if "*/" in text:  # only closed comments: an open "/*" may itself be the payload
        text = _VERSION_COMMENT.sub(" ", text).replace("/*", " ").replace("*/", " ")
    return _BLANKS.sub(" ", text)


def split_query(query: str) -> list[str]:
    """The ``name=value`` pairs of a raw query string, still encoded."""
    if "&" not in query:
        return [query] if query else []
    return [part for part in query.split("&") if part]


def normalise_query(query: str, limit: int = 8192) -> str:
    """A query string (or form body) normalised with its ``&`` separators turned into
    ``\x1e``, which no rule reads as an operator; an encoded ``%26`` inside a value
    stays a real ``&``."""
    return normalise(query[:limit].replace("&", "\x1e"), limit, plus_is_space=True)
