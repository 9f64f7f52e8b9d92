"""``dockaudit enforce serve``: run the authorization plugin until stopped."""

from __future__ import annotations

import argparse
import sys

from dockaudit.clibase import EXIT_ERROR, EXIT_OK, UsageError, print_error, rules_and_config
from dockaudit.enforce import DEFAULT_SOCKET


def add_parser(sub: argparse._SubParsersAction) -> None:
    """The ``enforce`` subcommand; it imports nothing of the server, which only ``serve`` needs."""
    enforce = sub.add_parser("enforce", help="judge requests at the engine: a Docker authorization plugin")
    actions = enforce.add_subparsers(dest="enforce_command", metavar="ACTION", required=True)
    serve = actions.add_parser(
        "serve",
        help="serve the authorization plugin on a Unix socket",
        description="Serve the Docker authorization plugin. Start dockerd with "
        "--authorization-plugin=NAME, where the socket is /run/docker/plugins/NAME.sock. "
        "Requests it cannot judge are denied (fail-closed); decisions are written as JSON lines.",
        epilog="exit codes:\n  0  stopped by SIGTERM or SIGINT\n  2  bad configuration, or the socket "
        "cannot be served\nSIGHUP reads the configuration again (a broken one is reported and the old "
        "one kept).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--socket", default=DEFAULT_SOCKET, help=f"socket path (default: {DEFAULT_SOCKET})")
    serve.add_argument("-c", "--config", help="configuration file (default: the nearest .dockaudit.yaml)")
    serve.add_argument("--dry-run", action="store_true",
                       help="allow every request and log what would be denied")
    serve.add_argument("--log", metavar="FILE",
                       help="decision log file (default: enforce.log-file of the configuration, else standard output)")
    serve.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    import signal
    import threading

    from dockaudit.enforce.judge import Policy, warm_up
    from dockaudit.enforce.log import DecisionLog
    from dockaudit.enforce.server import PluginServer, SocketInUse

    loaded, config = rules_and_config(args)
    policy = Policy.from_config(loaded.rules, config, dry_run=args.dry_run)
    warm_up(policy)
    # decisions take about a millisecond: hand the interpreter over often, so none waits behind another
    sys.setswitchinterval(0.0005)
    try:
        log = DecisionLog(args.log or config.enforce.log_file)
    except OSError as exc:
        raise UsageError(f"cannot open the decision log: {exc.strerror or exc}") from None
    try:
        server = PluginServer(args.socket, policy, log)
    except (SocketInUse, OSError) as exc:
        print_error(f"cannot serve on {args.socket}: {getattr(exc, 'strerror', None) or exc}")
        return EXIT_ERROR

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    def reload(signum: int, frame: object) -> None:
        try:
            _, fresh = rules_and_config(args)
        except UsageError as exc:
            log.write({"event": "reload-failed", "error": str(exc), "kept": "the previous configuration"})
            return
        server.policy = Policy.from_config(loaded.rules, fresh, dry_run=args.dry_run)
        log.write({"event": "reloaded", **_describe(server.policy, fresh.path)})

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGHUP, reload)
    log.write({"event": "start", "socket": args.socket, **_describe(policy, config.path)})
    sys.stderr.write(f"dockaudit enforce: serving on {args.socket}{' (dry run)' if args.dry_run else ''}\n")
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        log.write({"event": "stop", "socket": args.socket})
        log.close()
    return EXIT_OK


def _describe(policy, config_path: str | None) -> dict:
    return {"config": config_path or "(built-in defaults)", "deny": sorted(policy.deny),
            "dry_run": policy.dry_run, "fail_open": policy.fail_open}
