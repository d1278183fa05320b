"""Errors that reach a user as one line, never as a traceback.

Every message names what failed and where (file, line, field, host) and what
to check. None of them ever carries a secret.
"""

from __future__ import annotations


class ReviewFeedError(Exception):
    """Base class: `str(exc)` is the whole one-line message for the user."""

    exit_code = 1


class ConfigError(ReviewFeedError):
    """An invalid setting, environment variable or flag (names the setting)."""

    exit_code = 2


class FeedFileError(ReviewFeedError):
    """A feed file broken as a whole: nothing of it is applied, it is retried next run."""

    exit_code = 3


class SourceError(ReviewFeedError):
    """The source could not be listed or read (server down, login refused, host key...)."""

    exit_code = 4


class StoreError(ReviewFeedError):
    """The snapshot cannot be used (locked by another sync, corrupt file, refused file)."""

    exit_code = 5


class SnapshotLocked(StoreError):
    exit_code = 6
