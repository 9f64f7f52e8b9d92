"""dockaudit: a policy linter and auditor for how containers are started."""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    # ``from dockaudit import hookimpl`` (in plugins) loads pluggy; a run that loads no plugin before
    # it has work under way (``dockaudit live`` asks the engines first) does not wait for it here
    if name == "hookimpl":
        from dockaudit.hookspecs import hookimpl

        return hookimpl
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
