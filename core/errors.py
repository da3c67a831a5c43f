"""Exceptions shared by every layer; their messages are written to be shown to users."""


class SecureSphereError(Exception):
    """Base class: a message fit to show a user."""


class ValidationError(SecureSphereError):
    """Bad input; nothing was changed."""


class AccessDenied(SecureSphereError):
    """The actor may not see or do this."""


class NotFound(SecureSphereError):
    """No such object (or not visible to the actor)."""


class ConfigError(SecureSphereError):
    """Invalid configuration; the app cannot start."""
