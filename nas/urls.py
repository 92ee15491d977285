"""Results-store locations as users write them, and how they are shown.

A store is an SQLAlchemy database URL (``sqlite:///nas.db``, ``postgresql://user:pw@host/db``)
or a journal file path ending in one of :data:`JOURNAL_SUFFIXES`. Every message, header,
report and generated file shows a store through :func:`public_url`, so no password is ever
printed or written.
"""

from __future__ import annotations

DEFAULT_STORAGE = "sqlite:///nas.db"
JOURNAL_SUFFIXES = (".log", ".jsonl")


def is_journal(url: str) -> bool:
    """Whether ``url`` names a journal file rather than a database."""
    return url.endswith(JOURNAL_SUFFIXES) and "://" not in url


def is_store_url(url: str) -> bool:
    """Whether ``url`` has the form of a store location (a database URL or a journal file)."""
    return "://" in url or is_journal(url)


def public_url(url: str) -> str:
    """``url`` fit to print or write into a file: a database URL's password is masked, and
    so is whatever follows the first ``:`` before an ``@`` in a string that is no URL (a
    mistyped one such as ``postgresql:/user:pw@host/db``); a journal file path is kept."""
    if "://" not in url:
        credentials, at, host = url.rpartition("@")
        if not at or ":" not in credentials or is_journal(url):
            return url
        return f"{credentials.split(':', 1)[0]}:***@{host}"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        # Not a URL SQLAlchemy can parse: mask whatever stands between "://" and "@".
        scheme, _, rest = url.partition("://")
        credentials, at, host = rest.rpartition("@")
        if not at:
            return url
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
