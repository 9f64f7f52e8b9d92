"""DA8xx: secrets — credentials in environment variables, connection strings and command arguments.

Messages name the variable or flag, never the secret itself: reports end up
in CI logs and code-scanning alerts.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from dockaudit.model import ContainerSpec, Location, Severity, Source, known
from dockaudit.rulebase import BOTH, Option, Rule, RuleContext, Violation
from dockaudit_rules._common import option

THEME = "secrets"

# Name parts that make a variable credential-shaped. Checked on the
# underscore-separated words of the upper-cased name, so DB_PASSWORD and
# PASSWORD_DB match but PASSWORDLESS_LOGIN only through its own word.
_SECRET_WORDS = frozenset({
    "PASSWORD", "PASSWD", "PASS", "PWD", "PASSPHRASE", "SECRET", "SECRETS", "TOKEN",
    "APIKEY", "ACCESSKEY", "SECRETKEY", "PRIVATEKEY", "CREDENTIALS", "CREDENTIAL",
    "AUTHTOKEN", "HTPASSWD",
})
# Joined spellings (DBPASSWORD, APIKEY) without the noise of a bare TOKEN infix (TOKENIZER_MODEL).
_SECRET_INFIX = re.compile(r"PASSWORD|PASSWD|APIKEY|PRIVATE_?KEY|SECRET_?KEY|(?:ACCESS|AUTH|API)_?TOKEN")
# "*_KEY" is a secret (API_KEY, SECRET_KEY, ENCRYPTION_KEY) unless the word
# before it says it is public or a data key.
_NON_SECRET_KEY_KINDS = frozenset({
    "PUBLIC", "PUB", "SORT", "PARTITION", "PRIMARY", "FOREIGN", "CACHE", "ROUTING", "HASH",
    "RANGE", "SHARD", "LOOKUP", "IDEMPOTENCY", "DEDUP", "DEDUPLICATION", "SITE", "PUBLISHABLE",
    "HOT", "GROUP", "MESSAGE", "OBJECT", "INDEX", "ROW", "COLUMN", "TABLE", "MAP", "JSON",
})
# Names ending like these hold something about a secret, not the secret:
# POSTGRES_PASSWORD_FILE (the fix), TOKEN_URL, PASSWORD_MIN_LENGTH, TOKEN_TTL.
_NOT_A_VALUE_SUFFIXES = (
    "_FILE", "_PATH", "_DIR", "_URL", "_URI", "_ENDPOINT", "_HOST", "_PORT", "_TTL", "_EXPIRY",
    "_EXPIRES", "_EXPIRATION", "_TIMEOUT", "_LIFETIME", "_LENGTH", "_MIN", "_MAX", "_COUNT",
    "_ROUNDS", "_POLICY", "_ALGORITHM", "_TYPE", "_NAME", "_HEADER", "_ENABLED", "_REQUIRED",
    "_ID", "_REALM", "_MODE", "_METHOD", "_FORMAT", "_PREFIX", "_FIELD", "_PARAM", "_SIZE", "_SALT_ROUNDS",
)
_WINDOWS_PATH = re.compile(r"^[A-Za-z]:[\\/]")
_FILE_NAME = re.compile(
    r"^[\w.-]+\.(?:key|pem|crt|cert|der|p12|pfx|jks|keystore|json|txt|env|conf|cfg|ya?ml|asc|gpg|ovpn)$", re.I
)
_BOOLEAN_VALUES = frozenset({"yes", "no", "true", "false", "on", "off", "0", "1", "y", "n"})
_PLACEHOLDER = re.compile(r"^(?:<[^<>]*>|\{\{.*\}\}|\[[^\[\]]*\]|\*+|x+|\.\.\.|…|%[A-Za-z_]+%)$", re.I)


def credential_shaped(key: str) -> bool:
    """Whether an environment variable name says it holds a credential."""
    name = key.strip().upper()
    if not name or name == "PWD" or name.endswith(_NOT_A_VALUE_SUFFIXES):
        return False
    words = [w for w in re.split(r"[^A-Z0-9]+", name) if w]
    if any(w in _SECRET_WORDS for w in words) or _SECRET_INFIX.search(name):
        return True
    if len(words) >= 2 and words[-1] == "KEY":
        return words[-2] not in _NON_SECRET_KEY_KINDS
    return False


def literal_secret(value: Any) -> bool:
    """Whether *value* is a literal that looks like a secret (not empty, a path, a flag, a placeholder)."""
    if value is None or not known(value):
        return False
    text = str(value).strip()
    if not text or text.lower() in _BOOLEAN_VALUES or _PLACEHOLDER.match(text):
        return False
    if " " not in text and (text.startswith(("/", "./", "../", "~/")) or _WINDOWS_PATH.match(text)
                            or _FILE_NAME.match(text)):
        return False  # a path to, or the name of, a secret file
    return "://" not in text  # connection strings are DA802's


# Prefixes of real tokens: GitHub, GitLab, Slack, AWS access keys, Stripe, OpenAI, Google.
_TOKEN_PREFIX = re.compile(r"^(?:gh[pousr]_|github_pat_|glpat-|xox[abpr]-|AKIA|ASIA|sk_live_|rk_live_|sk-|AIza)")


def real_looking_secret(text: str) -> bool:
    """Whether a literal looks generated rather than made up for an example.

    A known token prefix, or 20 characters and more that mix upper case, lower
    case and digits (``s3cret``, ``example_password``, ``my-secret-pw`` do not).
    """
    if _TOKEN_PREFIX.match(text):
        return True
    classes = sum(bool(re.search(p, text)) for p in ("[a-z]", "[A-Z]", "[0-9]"))
    return len(text) >= 20 and classes == 3 and " " not in text


class SecretInEnv(Rule):
    """A credential is passed as a literal environment variable.

    `-e DB_PASSWORD=s3cret` writes the secret into the script (and its Git
    history), into the shell history of whoever runs it, into the process
    list of the host while `docker` runs, and into the container's
    configuration, where anyone allowed `docker inspect` can read it.

    **Anti-pattern**
    ```bash
    docker run -d -e MYSQL_ROOT_PASSWORD=password --name db mysql:8.0
    ```

    **Best practice**
    ```bash
    docker run -d -e MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db-root -v /srv/secrets:/run/secrets:ro --name db mysql:8.0
    ```

    A credential-named variable given a shell variable (`-e TOKEN="$TOKEN"`)
    is a warning in deploy scripts and dev set-ups: the shell expands it into
    docker's own arguments, which every user of the host can read in the
    process list.

    **Stays silent** for `-e KEY` (taken from the environment), paths and
    file names (`KEY_FILE=/run/secrets/…`), placeholders (`<password>`,
    `{{ .Pass }}`), and in Markdown and tests for example values that do not
    look generated (`s3cret`, `example_password`, a test database's
    `-e MYSQL_ROOT_PASSWORD=test`; a token-like value is still reported).
    """

    id = "DA801"
    name = "secret-in-env"
    severity = Severity.ERROR
    sources = BOTH
    theme = THEME
    options: ClassVar[Mapping[str, Option]] = {
        "allow-keys": Option([], list, "variable names never reported (exact, any case)", item_type=str),
        "extra-keys": Option(
            [], list, "more variable names (exact, any case) that hold credentials", item_type=str
        ),
    }

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        allow = {k.upper() for k in option(self, ctx, "allow-keys")}
        extra = {k.upper() for k in option(self, ctx, "extra-keys")}
        live = spec.origin.source is Source.LIVE
        for var in spec.env:
            if not known(var.key) or var.key.upper() in allow:
                continue
            if not (credential_shaped(var.key) or var.key.upper() in extra):
                continue
            loc = var.loc or spec.where("env")
            if not live and var.value is not None and not known(var.value):
                if ctx.broad or ctx.purpose in ("deploy", "dev"):
                    yield Violation(
                        f"-e {var.key}=$… expands the secret into docker's own command line: any "
                        "user of the host sees it in the process list while docker runs, and "
                        "docker inspect shows it for the container's life",
                        loc,
                        f"pass it from the environment (-e {var.key}) or, better, a mounted file",
                        severity=Severity.WARNING,
                    )
                continue
            if not literal_secret(var.value):
                continue
            if ctx.purpose in ("doc", "ci-test") and not ctx.broad and not real_looking_secret(str(var.value)):
                continue  # an example in documentation, a throwaway test database's password
            if live:
                message = f"{var.key} holds a credential in the container's environment, readable with docker inspect"
            else:
                message = f"-e {var.key}=… passes a literal credential on the command line"
            yield Violation(
                message,
                loc,
                f"pass it from the environment (-e {var.key}) or a mounted file "
                f"({var.key}_FILE=/run/secrets/… where the image supports it)",
            )


_URL_CREDENTIALS = re.compile(
    # The look-behind anchors the scheme at the start of a word: without it a long
    # run of letters is rescanned from every position (quadratic time).
    r"(?<![A-Za-z0-9+.-])(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<user>[^\s:/@?#]*):(?P<password>[^\s@/?#]+)@(?P<host>[^\s/?#'\"]*)"
)


def url_credentials(text: str) -> list[str]:
    """Each ``scheme://user:****@host`` in *text* whose password is a literal."""
    found = []
    for match in _URL_CREDENTIALS.finditer(text):
        password = match.group("password")
        if "$" in password or "`" in password or _PLACEHOLDER.match(password):
            continue
        found.append(f"{match.group('scheme')}://{match.group('user')}:****@{match.group('host')}")
    return found


def _command_words(spec: ContainerSpec) -> list[tuple[str, str]]:
    """(field, word) for every known word of the entrypoint and the command."""
    words: list[tuple[str, str]] = []
    entrypoint = spec.entrypoint
    if entrypoint is not None and known(entrypoint):
        words += [("entrypoint", w) for w in entrypoint if known(w)]
    words += [("command", w) for w in spec.command if known(w)]
    return words


class SecretInUrl(Rule):
    """A connection string carries a password.

    `postgres://app:s3cret@db/app` in an environment variable or an argument
    is a password in plain sight: in the script, in `ps`, in
    `docker inspect`. Connection strings are also logged more often than
    anything else.

    **Anti-pattern**
    ```bash
    docker run -d -e DATABASE_URL=postgres://app:s3cret@db:5432/app --name api myorg/api:1.8
    ```

    **Best practice**
    ```bash
    docker run -d -e DATABASE_URL=postgres://app@db:5432/app -e PGPASSFILE=/run/secrets/pgpass --name api myorg/api:1.8
    ```
    """

    id = "DA802"
    name = "secret-in-url"
    severity = Severity.ERROR
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        for var in spec.env:
            if not known(var.value) or var.value is None:
                continue
            for url in url_credentials(str(var.value)):
                yield Violation(
                    f"{var.key if known(var.key) else 'an environment variable'} holds a connection "
                    f"string with a password ({url})",
                    var.loc or spec.where("env"),
                    "keep the password out of the URL: pass it separately from a secret file or the environment",
                )
        for field_name, word in _command_words(spec):
            for url in url_credentials(word):
                yield Violation(
                    f"the container's {field_name} holds a connection string with a password ({url})",
                    spec.where(field_name),
                    "read the connection string from a file or the environment inside the container",
                )


_SECRET_FLAGS = frozenset({
    "--password", "--pass", "--passwd", "--token", "--api-key", "--apikey", "--secret",
    "--client-secret", "--secret-key", "--access-key", "--auth-token", "--private-key",
    "--requirepass", "--masterauth", "--db-password", "--admin-password", "--root-password",
})
_MYSQL_CLIENTS = frozenset({"mysql", "mysqladmin", "mysqldump", "mysqlimport", "mysqlshow", "mysqlcheck",
                            "mariadb", "mariadb-dump", "mariadb-admin"})
_TOKEN_PATTERNS: Sequence[tuple[str, re.Pattern[str]]] = (
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),
    ("a Stripe secret key", re.compile(r"\b[sr]k_live_[A-Za-z0-9]{20,}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}\b")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)


_SHELL_SEPARATORS = frozenset({";", "&&", "||", "|", "&"})


def _is_literal(value: str) -> bool:
    return bool(value) and "$" not in value and "`" not in value and not _PLACEHOLDER.match(value)


def _split_shell(word: str) -> list[str]:
    try:
        return shlex.split(word)
    except ValueError:
        return word.split()


def secrets_in_args(words: Sequence[str]) -> list[str]:
    """What in *words* (argv of a program, or a ``sh -c`` string) looks like a secret."""
    found: list[str] = []
    tokens: list[str] = []
    for word in words:
        if any(c.isspace() for c in word):  # a script run by sh -c: its own commands
            tokens.extend([";", *_split_shell(word)])
        else:
            tokens.append(word)
    program = ""
    expect_program = True
    for i, token in enumerate(tokens):
        if token in _SHELL_SEPARATORS:
            expect_program = True
            continue
        if expect_program and not token.startswith("-") and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token):
            program = token.rsplit("/", 1)[-1]
            expect_program = False
        for label, pattern in _TOKEN_PATTERNS:
            if pattern.search(token):
                found.append(label)
        flag, eq, value = token.partition("=")
        if flag.lower() in _SECRET_FLAGS:
            if not eq:
                value = tokens[i + 1] if i + 1 < len(tokens) else ""
                if value.startswith("-") or value in _SHELL_SEPARATORS:
                    value = ""
            if _is_literal(value):
                found.append(f"{flag} with a literal value")
        elif program in _MYSQL_CLIENTS and token.startswith("-p") and not token.startswith("--"):
            if _is_literal(token[2:]):
                found.append(f"{program} -p<password>")
    return list(dict.fromkeys(found))


class SecretInArgs(Rule):
    """The container's command carries a secret.

    Arguments are the least private place for a secret: they show in `ps` on
    the host to every user, in `docker inspect`, in `docker ps --no-trunc`,
    and in the script itself.

    **Anti-pattern**
    ```bash
    docker run -d --name cache redis:7.2 redis-server --requirepass s3cret
    ```

    **Best practice**
    ```bash
    docker run -d --name cache -v /srv/redis/redis.conf:/usr/local/etc/redis/redis.conf:ro redis:7.2 redis-server /usr/local/etc/redis/redis.conf
    ```
    """

    id = "DA803"
    name = "secret-in-args"
    severity = Severity.WARNING
    sources = BOTH
    theme = THEME

    def check_container(self, spec: ContainerSpec, ctx: RuleContext) -> Iterable[Violation]:
        words = _command_words(spec)
        if not words:
            return
        loc: Location | None = spec.where("command") if any(f == "command" for f, _ in words) else None
        found = secrets_in_args([w for _, w in words])
        if found:
            yield Violation(
                f"the container's command holds a secret ({', '.join(found)})",
                loc or spec.where("entrypoint"),
                "pass it in a file or environment variable the program reads (e.g. a config file or *_FILE)",
            )
