"""Stand-in for the `overrides` package: decorators that only check, at import time, that a method overrides one
(override) or is not overridden (final). Here they return the method unchanged."""


def override(function):
    return function


overrides = override
final = override


class EnforceOverrides:
    """Base class that makes the checks mandatory in the real package; a plain base class here."""
