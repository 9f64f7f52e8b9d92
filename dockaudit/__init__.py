"""dockaudit: a policy linter and auditor for how containers are started."""

__version__ = "0.1.0"
from dockaudit.hookspecs import hookimpl  # noqa: F401
