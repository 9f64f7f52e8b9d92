"""Enforcement: dockaudit as a Docker authorization plugin.

The engine asks the plugin about every API request before acting on it
(``/AuthZPlugin.AuthZReq``). Container creation, ``update``, privileged
``exec`` are read into the same model the other sources build and judged by
the same rules, under the ``enforce:`` section of the configuration.

- `body`: request bodies read the way the engine's JSON decoder reads them
- `judge`: a request in, a decision out (fail-closed)
- `log`: the decision log, JSON lines with secrets redacted
- `server`: the plugin protocol over a Unix socket
"""

# Where dockerd looks for a plugin named "dockaudit" (--authorization-plugin=dockaudit).
DEFAULT_SOCKET = "/run/docker/plugins/dockaudit.sock"
