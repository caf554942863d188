"""Core errors; each face translates them into its vendor's error envelope."""

from __future__ import annotations


class CoreError(Exception):
    """Base of every error a core service raises on purpose."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(CoreError):
    """A referenced record does not exist in this tenant."""


class Invalid(CoreError):
    """Input that breaks a rule (missing, malformed or out of range)."""


class Conflict(CoreError):
    """The request contradicts the current state."""


class Forbidden(CoreError):
    """The caller may not do this (wrong tenant, profile or rights)."""


class TenancyError(RuntimeError):
    """A query ran without a tenant: a programming error, never user input."""
