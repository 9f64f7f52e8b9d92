"""A whole realistic script using every construct: every invocation, exactly where it is."""

from __future__ import annotations

from pathlib import Path

from dockaudit.model import UNKNOWN
from dockaudit.sources.shell import extract_shell

SCRIPT = Path(__file__).resolve().parents[2] / "fixtures" / "scripts" / "constructs.sh"

# (line, column, end line, end column, program, context, program word, first words)
EXPECTED = [
    (17, 1, 17, 29, "docker", "code", "docker", ["network", "create", "blognet"]),
    (19, 9, 23, 14, "docker", "substitution", "docker", ["run", "-d", "--name", "blog-db"]),
    (25, 9, 27, 25, "docker", "code", "docker", ["--context", "prod", "run", "-d"]),
    (29, 1, 29, 46, "docker", "code", "$DOCKER", ["run", "--rm", "-e", "TZ=UTC"]),
    (31, 1, 31, 63, "docker", "code", '"$DOCKER_BIN"', ["create", "--name", "blog-cron", UNKNOWN]),
    (
        36,
        14,
        36,
        66,
        "docker",
        "substitution",
        "docker",
        ["inspect", "-f", "{{.State.Health.Status}}"],
    ),
    (46, 5, 47, 54, "docker", "code", "docker", ["run", "--rm", "--volumes-from", "blog-db"]),
    (48, 15, 48, 38, "docker", "code", "docker", ["exec", "-it", "blog", "sh"]),
    (52, 48, 52, 102, "docker", "ssh", "docker", ["run", "-d", "--restart=always", "--name"]),
    (56, 1, 56, 42, "docker", "ssh", "docker", ["pull", "registry.example.com/blog:2.4"]),
    (57, 1, 57, 61, "docker", "ssh", "docker", ["run", "-d", "--name", "blog-edge"]),
    (64, 10, 64, 42, "docker", "sh-c", "docker", ["run", "--rm", "alpine:3.19", "true"]),
    (65, 40, 65, 78, "docker", "code", "docker", ["run", "-d", "--name", "fetcher"]),
    (66, 6, 66, 39, "docker", "code", "docker", ["run", "--rm", "busybox:1.36", "true"]),
    (67, 7, 67, 38, "docker", "substitution", "docker", ["ps", "-q", "--filter", "name=blog"]),
    (68, 1, 68, 47, "docker", "code", "docker", ["stop", UNKNOWN]),
    (68, 15, 68, 46, "docker", "substitution", "docker", ["ps", "-q", "--filter", "label=tmp"]),
    (69, 1, 69, 37, "podman", "code", "podman", ["run", "--rm", "quay.io/podman/hello"]),
]


def test_every_invocation_of_the_script():
    result = extract_shell(SCRIPT.read_text(), "constructs.sh")
    assert result.problems == []
    got = [
        (
            inv.loc.line,
            inv.loc.column,
            inv.loc.end_line,
            inv.loc.end_column,
            inv.program,
            inv.context,
            inv.program_word.text,
            [w.value for w in inv.words][: len(expected[7])],
        )
        for inv, expected in zip(result.invocations, EXPECTED, strict=False)
    ]
    assert got == EXPECTED
    assert len(result.invocations) == len(EXPECTED)


def test_words_of_the_multi_line_run():
    result = extract_shell(SCRIPT.read_text(), "constructs.sh")
    inv = next(i for i in result.invocations if i.loc.line == 25)
    assert [(w.text, w.value, w.loc.line, w.loc.column) for w in inv.words] == [
        ("--context", "--context", 25, 16),
        ("prod", "prod", 25, 26),
        ("run", "run", 25, 31),
        ("-d", "-d", 25, 35),
        ("--name", "--name", 25, 38),
        ("blog", "blog", 25, 45),
        ("--network", "--network", 26, 3),
        ("$NET", "blognet", 26, 13),
        ("-p", "-p", 26, 18),
        ("127.0.0.1:8080:80", "127.0.0.1:8080:80", 26, 21),
        ("--memory", "--memory", 27, 3),
        ("512m", "512m", 27, 12),
        ('"$IMAGE"', "registry.example.com/blog:2.4", 27, 17),
    ]


def test_constants_reach_the_ssh_string_and_arrays_splice():
    result = extract_shell(SCRIPT.read_text(), "constructs.sh")
    by_line = {inv.loc.line: inv for inv in result.invocations}
    assert by_line[52].words[-1].value == "registry.example.com/blog:2.4"
    assert by_line[19].words[7].value == "blog-db:/var/lib/postgresql/data"
    migrate = [w.value for w in by_line[29].words]
    assert migrate == ["run", "--rm", "-e", "TZ=UTC", "registry.example.com/blog:2.4", "migrate"]
    cron = by_line[31].words[3]
    assert (cron.text, cron.value, cron.splits) == ("$CRON_OPTS", UNKNOWN, True)
