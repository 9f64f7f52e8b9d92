"""DA6xx: logging — unbounded json-file logs, disabled logging, log options a driver rejects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from dockaudit.model import ContainerSpec, DockerCommand, OptionUse, Severity, Source, known
from dockaudit.rulebase import BOTH, STATIC, Option, Rule, RuleContext, Violation
from dockaudit_rules._common import option

THEME = "logging"

DEFAULT_DRIVER_OPTION = Option(
    "json-file",
    str,
    "the daemon's default log driver for containers without --log-driver "
    "(json-file unless daemon.json sets log-driver)",
)

# Accepted by every driver: the daemon handles them before the driver sees the rest.
COMMON_LOG_OPTS = frozenset({
    "mode", "max-buffer-size",
    "cache-disabled", "cache-max-size", "cache-max-file", "cache-compress",
})
_ATTRS = frozenset({"env", "env-regex", "labels", "labels-regex"})

# The keys each built-in driver's option validator accepts (moby daemon/logger/*,
# and https://docs.docker.com/engine/logging/drivers/). Plugin drivers and
# etwlogs, which registers no validator, are not checked.
DRIVER_LOG_OPTS: Mapping[str, frozenset[str]] = {
    "json-file": frozenset({"max-size", "max-file", "compress", "tag"}) | _ATTRS,
    "local": frozenset({"max-size", "max-file", "compress"}),
    "syslog": frozenset({
        "syslog-address", "syslog-facility", "syslog-tls-ca-cert", "syslog-tls-cert",
        "syslog-tls-key", "syslog-tls-skip-verify", "syslog-format", "tag",
    }) | _ATTRS,
    "journald": frozenset({"tag"}) | _ATTRS,
    "gelf": frozenset({
        "gelf-address", "gelf-compression-type", "gelf-compression-level",
        "gelf-tcp-max-reconnect", "gelf-tcp-reconnect-delay", "tag",
    }) | _ATTRS,
    "fluentd": frozenset({
        "fluentd-address", "fluentd-async", "fluentd-async-connect", "fluentd-buffer-limit",
        "fluentd-retry-wait", "fluentd-max-retries", "fluentd-sub-second-precision",
        "fluentd-request-ack", "fluentd-write-timeout", "tag",
    }) | _ATTRS,
    "awslogs": frozenset({
        "awslogs-region", "awslogs-endpoint", "awslogs-group", "awslogs-stream",
        "awslogs-create-group", "awslogs-create-stream", "awslogs-datetime-format",
        "awslogs-multiline-pattern", "awslogs-credentials-endpoint",
        "awslogs-force-flush-interval-seconds", "awslogs-max-buffered-events", "awslogs-format",
        "tag",
    }),
    "splunk": frozenset({
        "splunk-url", "splunk-token", "splunk-source", "splunk-sourcetype", "splunk-index",
        "splunk-capath", "splunk-caname", "splunk-insecureskipverify", "splunk-format",
        "splunk-verify-connection", "splunk-gzip", "splunk-gzip-level",
        "splunk-index-acknowledgment", "tag",
    }) | _ATTRS,
    "gcplogs": frozenset({
        "gcp-project", "gcp-log-cmd", "gcp-meta-zone", "gcp-meta-name", "gcp-meta-id",
    }) | _ATTRS,
    "logentries": frozenset({"logentries-token", "line-only", "tag"}) | _ATTRS,
    "none": frozenset(),
}

REQUIRED_LOG_OPTS: Mapping[str, tuple[str, ...]] = {
    "awslogs": ("awslogs-group",),
    "splunk": ("splunk-url", "splunk-token"),
    "gelf": ("gelf-address",),
    "logentries": ("logentries-token",),
}


def effective_logging(spec: ContainerSpec, ctx: RuleContext, default_driver: str) -> tuple[Any, dict[str, Any]]:
    """The driver and options in force: the daemon's default fills in what the container leaves out."""
    driver = spec.log_driver
    opts: dict[str, Any] = {}
    host = ctx.host if spec.origin.source is Source.LIVE else None
    if host is not None and host.default_log_driver:
        default_driver = host.default_log_driver
    if driver is None or driver == "":
        driver = default_driver
    if host is not None and known(driver) and driver == default_driver:
        opts.update(host.default_log_opts)
    opts.update(spec.log_opts)
    return driver, opts


class LogUnbounded(Rule):
    """The container's json-file logs grow without limit.

    The default `json-file` driver keeps everything the container prints in
    one file under `/var/lib/docker/containers` and never rotates it unless
    `max-size` is set. A chatty service fills the host's disk, and then every
    container on it fails.

    **Anti-pattern**
    ```bash
    docker run -d --restart unless-stopped --name api myorg/api:1.8
    ```

    **Best practice**
    ```bash
    docker run -d --restart unless-stopped --log-opt max-size=10m --log-opt max-file=3 --name api myorg/api:1.8
    ```
    """

    id = "DA601"
    name = "log-unbounded"
    severity = Severity.WARNING
    sources = BOTH
    theme = THEME
    service_only = True
    options: ClassVar[Mapping[str, Option]] = {"default-log-driver": DEFAULT_DRIVER_OPTION}

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        driver, opts = effective_logging(spec, ctx, option(self, ctx, "default-log-driver"))
        if not known(driver) or driver != "json-file":
            return
        size = opts.get("max-size")
        if size is None:
            if spec.incomplete:
                return
            yield Violation(
                "json-file logging without max-size: the log file grows until the disk is full",
                None,
                "add --log-opt max-size=10m --log-opt max-file=3 (or set them in daemon.json log-opts)",
            )
        elif known(size) and str(size).strip() == "-1":
            yield Violation(
                "--log-opt max-size=-1 turns off log rotation: the log file grows until the disk is full",
                spec.where("log_opts"),
                "give a size, e.g. --log-opt max-size=10m --log-opt max-file=3",
            )


class LoggingDisabled(Rule):
    """The container's output is thrown away.

    With `--log-driver none`, `docker logs` shows nothing and nothing is
    forwarded: when the service fails there is no record of why.

    **Anti-pattern**
    ```bash
    docker run -d --restart unless-stopped --log-driver none --name worker myorg/worker:2.1
    ```

    **Best practice**
    ```bash
    docker run -d --restart unless-stopped --log-driver local --name worker myorg/worker:2.1
    ```
    """

    id = "DA602"
    name = "logging-disabled"
    severity = Severity.INFO
    service_only = True  # a one-off run without logs loses nothing
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        driver = spec.log_driver
        if known(driver) and driver == "none":
            yield Violation(
                "--log-driver none discards the container's output: docker logs shows nothing",
                spec.where("log_driver"),
                "use --log-driver local (rotated, compact) or a driver that ships logs",
            )


_KEY_TEXT = re.compile(r"""^['"]?([A-Za-z0-9_.-]+)=""")


def log_opt_key(use: OptionUse) -> str | None:
    """The key of one ``--log-opt key=value``, when it can be read from the word."""
    value = use.value_text
    if known(value) and value is not None:
        return str(value).split("=", 1)[0].strip()
    if use.value is not None:  # key literal, value from a variable: max-size=$LOG_SIZE
        match = _KEY_TEXT.match(use.value.text.split("--log-opt=", 1)[-1])
        if match:
            return match.group(1)
    return None


def _log_opt_value(use: OptionUse) -> str | None:
    value = use.value_text
    if known(value) and value is not None and "=" in str(value):
        return str(value).split("=", 1)[1]
    return None


class LogOptInvalid(Rule):
    """A `--log-opt` the log driver does not accept, or a required one missing.

    The daemon validates log options against the driver when the container
    is created: `max-size` with `syslog`, any option with `none`, or
    `awslogs` without `awslogs-group` make `docker run` fail.

    **Anti-pattern**
    ```bash
    docker run -d --log-driver syslog --log-opt max-size=10m --name api myorg/api:1.8
    ```

    **Best practice**
    ```bash
    docker run -d --log-driver syslog --log-opt syslog-address=udp://10.0.0.5:514 --name api myorg/api:1.8
    ```
    """

    id = "DA603"
    name = "log-opt-invalid"
    severity = Severity.ERROR
    sources = STATIC
    theme = THEME
    options: ClassVar[Mapping[str, Option]] = {"default-log-driver": DEFAULT_DRIVER_OPTION}
    subcommands = frozenset({("run",), ("create",)})

    def check_command(self, command: DockerCommand, ctx: RuleContext) -> Iterable[Violation]:
        if command.subcommand not in self.subcommands:
            return
        driver_use = command.option("--log-driver")
        if driver_use is None:
            driver: Any = option(self, ctx, "default-log-driver")
            driver_flag = "the default json-file driver" if driver == "json-file" else f"the {driver} driver"
        else:
            driver = driver_use.value_text
            driver_flag = f"--log-driver {driver}"
        if not known(driver) or driver not in DRIVER_LOG_OPTS:
            return
        accepted = DRIVER_LOG_OPTS[driver]
        uses = command.all("--log-opt")
        keys: dict[str, OptionUse] = {}
        readable = True
        for use in uses:
            key = log_opt_key(use)
            if key is None:
                readable = False
                continue
            keys[key] = use
            if driver == "none":
                yield Violation(
                    f"--log-opt {key} with --log-driver none: the none driver takes no options",
                    use.loc,
                    "remove the --log-opt, or choose a driver that logs",
                )
            elif key not in accepted and key not in COMMON_LOG_OPTS:
                yield Violation(
                    f"--log-opt {key} is not an option of {driver_flag}: docker run fails",
                    use.loc,
                    f"use the options of the {driver} driver ({', '.join(sorted(accepted)) or 'none'})",
                )
        buffer_use = keys.get("max-buffer-size")
        mode_use = keys.get("mode")
        if buffer_use is not None and driver != "none":
            mode = _log_opt_value(mode_use) if mode_use is not None else ""
            if mode is not None and mode != "non-blocking":
                yield Violation(
                    "--log-opt max-buffer-size needs --log-opt mode=non-blocking: docker run fails",
                    buffer_use.loc,
                    "add --log-opt mode=non-blocking, or drop max-buffer-size",
                )
        if command.incomplete or not readable:
            return
        for required in REQUIRED_LOG_OPTS.get(driver, ()):
            if required not in keys:
                yield Violation(
                    f"{driver_flag} needs --log-opt {required}: docker run fails without it",
                    driver_use.loc if driver_use is not None else None,
                    f"add --log-opt {required}=…",
                )
