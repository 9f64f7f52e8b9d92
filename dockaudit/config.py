"""``.dockaudit.yaml``: finding it, validating it against the rules, resolving it.

The nearest ``.dockaudit.yaml`` (or ``.dockaudit.yml``) upward from a checked
file's directory, stopping at the repository root, applies to that file;
``--config`` names one for every file. An unknown key, an unknown rule id, an
unknown rule option or a value of the wrong type is a `ConfigError` saying
where, never a silent no-op.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from dockaudit.model import PURPOSES, Severity
from dockaudit.rulebase import Rule

CONFIG_NAMES = (".dockaudit.yaml", ".dockaudit.yml")
PROFILES = ("default", "cis", "strict")  # each holds the rules of the ones before it
FAIL_ON = ("error", "warning", "info", "never")
TOP_KEYS = {"rules", "exclude", "fail-on", "profile", "inline-ignores", "purpose", "enforce", "compose"}
ENFORCE_KEYS = {"deny", "log", "fail-open", "log-file"}
# what `dockaudit enforce` denies unless `enforce.deny` says otherwise: never right on a shared host
DEFAULT_DENY = ("DA205", "DA501", "DA502", "DA504", "DA505", "DA506", "DA507", "DA508", "DA512", "DA801", "DA802")
RULE_KEYS = {"enabled", "severity"}


class ConfigError(Exception):
    """A configuration the user wrote is wrong; the message says where and why."""


@dataclass(frozen=True)
class RuleSettings:
    """What a configuration says of one rule: on or off, its severity, its options."""

    enabled: bool | None = None
    severity: Severity | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


class EnforceSettings(NamedTuple):
    """The ``enforce:`` section: which rules deny a request at the engine, which are logged."""

    deny: tuple[str, ...] = DEFAULT_DENY
    log: tuple[str, ...] | None = None  # None: every other enabled rule
    fail_open: bool = False
    log_file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"deny": list(self.deny), "log": "all" if self.log is None else list(self.log),
                "fail-open": self.fail_open, "log-file": self.log_file or "-"}


@dataclass(frozen=True)
class Config:
    """A validated configuration. `Config()` is the built-in default."""

    rules: Mapping[str, RuleSettings] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    fail_on: str | None = None  # None: not set here (the default is "warning")
    profile: str = "default"
    inline_ignores: bool = True
    path: str | None = None  # the file it came from
    purpose: tuple[tuple[str, str], ...] = ()  # (path glob, purpose): what files are for
    enforce: EnforceSettings = field(default_factory=EnforceSettings)
    compose: tuple[str, ...] = ()  # globs of files to read as Compose files, whatever their name

    def is_enabled(self, rule: type[Rule]) -> bool:
        settings = self.rules.get(rule.id)
        if settings is not None and settings.enabled is not None:
            return settings.enabled
        if not rule.enabled_by_default:
            return self.profile == "strict"
        wanted = getattr(rule, "profile", "default")
        rank = PROFILES.index(wanted) if wanted in PROFILES else 0
        return PROFILES.index(self.profile) >= rank

    @property
    def broad(self) -> bool:
        """cis and strict: every check on every container, whatever the file is for."""
        return self.profile != "default"

    def purpose_of(self, path: str) -> str | None:
        """The purpose the configuration states for *path* (first matching glob), if any."""
        for pattern, purpose in self.purpose:
            if self._matches(path, pattern):
                return purpose
        return None

    def severity_of(self, rule: type[Rule]) -> Severity:
        settings = self.rules.get(rule.id)
        if settings is not None and settings.severity is not None:
            return settings.severity
        return rule.severity

    def options_for(self, rule: type[Rule]) -> dict[str, Any]:
        options = {name: opt.default for name, opt in rule.options.items()}
        settings = self.rules.get(rule.id)
        if settings is not None:
            options.update(settings.options)
        return options

    def excludes(self, path: str) -> bool:
        """True when *path* matches an ``exclude`` pattern (glob, on the path or any part)."""
        return any(self._matches(path, pattern) for pattern in self.exclude)

    def reads_as_compose(self, path: str) -> bool:
        """True when *path* matches a ``compose`` pattern: read it as a Compose file."""
        return any(self._matches(path, pattern) for pattern in self.compose)

    def _matches(self, path: str, pattern: str) -> bool:
        # as_posix() drops a leading "./" and keeps the dot of ".github" (lstrip("./") would not)
        norm = Path(path).as_posix() if path not in (".", "") else path
        parts = Path(norm).parts
        base = Path(self.path).parent if self.path else None
        rel = norm
        if base is not None:
            try:
                rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(base)).as_posix()
            except ValueError:
                rel = norm
        pat = pattern.rstrip("/")
        if fnmatch.fnmatch(norm, pat) or fnmatch.fnmatch(rel, pat):
            return True
        if fnmatch.fnmatch(rel, pat + "/*") or fnmatch.fnmatch(norm, pat + "/*"):
            return True
        return "/" not in pat and any(fnmatch.fnmatch(part, pat) for part in parts)

    def to_dict(self, rules: Mapping[str, type[Rule]]) -> dict[str, Any]:
        """The effective configuration, every rule resolved (for ``dockaudit config``)."""
        return {
            "source": self.path or "(built-in defaults)",
            "profile": self.profile,
            "fail-on": self.fail_on or "warning",
            "inline-ignores": self.inline_ignores,
            "exclude": list(self.exclude),
            "purpose": dict(self.purpose),
            "enforce": self.enforce.to_dict(),
            "compose": list(self.compose),
            "rules": {
                rule_id: {
                    "enabled": self.is_enabled(rule),
                    "severity": str(self.severity_of(rule)),
                    **self.options_for(rule),
                }
                for rule_id, rule in rules.items()
            },
        }


def parse_config(data: Any, rules: Mapping[str, type[Rule]], where: str) -> Config:
    """Validate a loaded YAML document against the known rules."""
    if data is None:
        return Config(path=where)
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: the configuration must be a mapping, got {type(data).__name__}")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(TOP_KEYS))})"
        )
    profile = data.get("profile", "default")
    if profile not in PROFILES:
        raise ConfigError(f"{where}: profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    fail_on = data.get("fail-on")
    if fail_on is not None and fail_on not in FAIL_ON:
        raise ConfigError(f"{where}: fail-on must be one of {', '.join(FAIL_ON)}, got {fail_on!r}")
    exclude = data.get("exclude", [])
    if isinstance(exclude, str):
        exclude = [exclude]
    if not isinstance(exclude, list) or not all(isinstance(p, str) for p in exclude):
        raise ConfigError(f"{where}: exclude must be a list of path patterns")
    compose = data.get("compose", [])
    if isinstance(compose, str):
        compose = [compose]
    if not isinstance(compose, list) or not all(isinstance(p, str) for p in compose):
        raise ConfigError(f"{where}: compose must be a list of path patterns")
    inline = data.get("inline-ignores", True)
    if not isinstance(inline, bool):
        raise ConfigError(f"{where}: inline-ignores must be true or false, got {inline!r}")
    purpose = data.get("purpose") or {}
    if not isinstance(purpose, dict):
        raise ConfigError(f"{where}: purpose must map path patterns to one of {', '.join(PURPOSES)}")
    for pattern, value in purpose.items():
        if value not in PURPOSES:
            raise ConfigError(f"{where}: purpose.{pattern}: must be one of {', '.join(PURPOSES)}, "
                              f"got {value!r}")
    rule_section = data.get("rules") or {}
    if not isinstance(rule_section, dict):
        raise ConfigError(f"{where}: rules must be a mapping of rule ids")
    settings: dict[str, RuleSettings] = {}
    for rule_id, body in rule_section.items():
        settings[str(rule_id)] = _parse_rule_settings(str(rule_id), body, rules, where)
    return Config(
        rules=settings,
        exclude=tuple(exclude),
        fail_on=fail_on,
        profile=profile,
        inline_ignores=inline,
        path=where,
        purpose=tuple((str(k), str(v)) for k, v in purpose.items()),
        enforce=_parse_enforce(data.get("enforce"), rules, where),
        compose=tuple(compose),
    )


def _parse_enforce(body: Any, rules: Mapping[str, type[Rule]], where: str) -> EnforceSettings:
    if body is None:
        return EnforceSettings()
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: enforce must be a mapping")
    unknown = set(body) - ENFORCE_KEYS
    if unknown:
        raise ConfigError(f"{where}: enforce: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(ENFORCE_KEYS))})")

    def rule_ids(key: str) -> tuple[str, ...]:
        value = body[key]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ConfigError(f"{where}: enforce.{key}: expected a list of rule ids")
        for rule_id in value:
            if rule_id not in rules:
                raise ConfigError(f"{where}: enforce.{key}: unknown rule id {rule_id!r}")
        return tuple(value)

    deny = rule_ids("deny") if "deny" in body else DEFAULT_DENY
    log = None if body.get("log", "all") == "all" else rule_ids("log")
    fail_open = body.get("fail-open", False)
    if not isinstance(fail_open, bool):
        raise ConfigError(f"{where}: enforce.fail-open must be true or false, got {fail_open!r}")
    log_file = body.get("log-file")
    if log_file is not None and not isinstance(log_file, str):
        raise ConfigError(f"{where}: enforce.log-file must be a path")
    return EnforceSettings(deny=deny, log=log, fail_open=fail_open, log_file=log_file)


def _parse_rule_settings(
    rule_id: str, body: Any, rules: Mapping[str, type[Rule]], where: str
) -> RuleSettings:
    rule = rules.get(rule_id)
    if rule is None:
        by_name = {r.name: r.id for r in rules.values()}
        hint = f" (did you mean {by_name[rule_id]}?)" if rule_id in by_name else ""
        raise ConfigError(f"{where}: rules.{rule_id}: unknown rule id{hint}")
    if isinstance(body, bool):  # `DA101: false` as a shorthand
        return RuleSettings(enabled=body)
    if body is None:
        return RuleSettings()
    if not isinstance(body, dict):
        raise ConfigError(f"{where}: rules.{rule_id}: expected a mapping or true/false")
    enabled = body.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise ConfigError(f"{where}: rules.{rule_id}.enabled: expected true or false, got {enabled!r}")
    severity = None
    if "severity" in body:
        try:
            severity = Severity.parse(str(body["severity"]))
        except ValueError as exc:
            raise ConfigError(f"{where}: rules.{rule_id}.severity: {exc}") from None
    options: dict[str, Any] = {}
    for key, value in body.items():
        if key in RULE_KEYS:
            continue
        option = rule.options.get(key)
        if option is None:
            known = ", ".join(sorted(RULE_KEYS | set(rule.options)))
            raise ConfigError(f"{where}: rules.{rule_id}: unknown key {key!r} (known: {known})")
        problem = option.validate(value)
        if problem:
            raise ConfigError(f"{where}: rules.{rule_id}.{key}: {problem}")
        options[key] = value
    return RuleSettings(enabled=enabled, severity=severity, options=options)


def load_config_file(path: str | os.PathLike[str], rules: Mapping[str, type[Rule]]) -> Config:
    import yaml  # only when a config file exists

    where = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read the configuration: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        pos = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{where}{pos}: invalid YAML: {problem}") from None
    return parse_config(data, rules, where)


class ConfigFinder:
    """Finds and caches the configuration that applies to each file."""

    def __init__(self, rules: Mapping[str, type[Rule]], explicit: str | None = None) -> None:
        self._rules = rules
        self._by_dir: dict[Path, Config] = {}
        self._explicit = load_config_file(explicit, rules) if explicit else None

    def for_path(self, path: str | None) -> Config:
        if self._explicit is not None:
            return self._explicit
        # abspath, not resolve(): the configuration beside the path as named applies,
        # and a symlink loop must not raise here (reading the file reports it).
        start = Path(os.path.abspath(path)).parent if path and path != "-" else Path.cwd()
        return self._for_dir(start)

    def _for_dir(self, directory: Path) -> Config:
        cached = self._by_dir.get(directory)
        if cached is not None:
            return cached
        config: Config | None = None
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                config = load_config_file(candidate, self._rules)
                break
        if config is None:
            at_root = (directory / ".git").exists() or directory.parent == directory
            config = Config() if at_root else self._for_dir(directory.parent)
        self._by_dir[directory] = config
        return config
