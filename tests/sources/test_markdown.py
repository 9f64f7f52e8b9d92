"""Finding docker invocations in Markdown: blocks, prompts, inline spans; file positions."""

from __future__ import annotations

import pytest

from dockaudit.model import UNKNOWN
from dockaudit.sources.markdown import extract_markdown, looks_like_markdown


def found(text: str) -> list:
    return extract_markdown(text, "doc.md").invocations


def starts(text: str) -> list[tuple[int, int]]:
    return [(i.loc.line, i.loc.column) for i in found(text)]


def test_fenced_bash_block_positions_are_file_positions():
    text = "# Title\n\nSome text.\n\n```bash\nexport NET=n1\ndocker run -d \\\n  --network $NET x\n```\n"
    (inv,) = found(text)
    assert inv.context == "markdown"
    assert (inv.loc.line, inv.loc.column, inv.loc.end_line, inv.loc.end_column) == (7, 1, 8, 19)
    assert [(w.text, w.value, w.loc.line, w.loc.column) for w in inv.words] == [
        ("run", "run", 7, 8),
        ("-d", "-d", 7, 12),
        ("--network", "--network", 8, 3),
        ("$NET", "n1", 8, 13),
        ("x", "x", 8, 18),
    ]


@pytest.mark.parametrize(
    "tag", ["", "sh", "bash", "shell", "zsh", "console", "shell-session", "terminal"]
)
def test_shell_tags(tag):
    text = f"```{tag}\n$ docker run x\n```\n"
    assert starts(text) == [(2, 3)]


@pytest.mark.parametrize("tag", ["python", "yaml", "dockerfile", "json", "go", "ini"])
def test_other_languages_are_skipped(tag):
    assert found(f"```{tag}\ndocker run x\n```\n") == []


def test_console_block_without_prompts_is_a_list_of_commands():
    text = "```console\ndocker run -d a\ndocker create b\n```\n"
    assert starts(text) == [(2, 1), (3, 1)]


def test_transcript_with_unprompted_container_commands():
    text = (
        "```\n"
        "$ ip link\n"
        "1: lo: <LOOPBACK,UP> mtu 65536\n"
        "docker run --net=mcv101 -itd alpine /bin/sh\n"
        "CID=$(docker run -d alpine)\n"
        "```\n"
    )
    invs = found(text)
    assert [(i.loc.line, i.loc.column, i.context) for i in invs] == [
        (4, 1, "markdown"),
        (5, 7, "substitution"),
    ]


def test_powershell_blocks_are_read_line_by_line():
    text = (
        "```powershell\n"
        "$env:TAG = 'x'\n"
        "PS C:\\> docker run -d `\n"
        "  -p 80:80 `\n"
        "  nginx\n"
        "Write-Host 'docker run not-this'\n"
        "```\n"
    )
    (inv,) = found(text)
    assert [(w.value, w.loc.line, w.loc.column) for w in inv.words] == [
        ("run", 3, 16),
        ("-d", 3, 20),
        ("-p", 4, 3),
        ("80:80", 4, 6),
        ("nginx", 5, 3),
    ]


def test_tilde_fences_and_indented_fences_in_lists():
    text = "~~~sh\ndocker run a\n~~~\n\n1. Step\n   ```bash\n   docker run b\n   ```\n"
    assert starts(text) == [(2, 1), (7, 4)]


def test_console_output_lines_are_ignored():
    text = (
        "```console\n"
        "$ docker run -it --rm alpine sh\n"
        "/ # docker run from-the-output\n"
        "docker run output-line\n"
        "user@host:~$ sudo docker run b\n"
        "[root@localhost ~]# docker run c\n"
        "PS C:\\> docker run d\n"
        "```\n"
    )
    invs = found(text)
    assert [(i.loc.line, i.loc.column, i.words[-1].value) for i in invs] == [
        (2, 3, "sh"),
        (5, 19, "b"),
        (6, 21, "c"),
        (7, 9, "d"),
    ]


def test_continuations_after_a_prompt():
    text = (
        "```console\n"
        "$ docker run -d \\\n"
        "    -p 80:80 \\\n"
        "    nginx\n"
        "abc123\n"
        "$ docker run -e 'A=1\n"
        "> 2' x\n"
        '$ docker run -e "B=1\n'
        '2" y\n'
        "```\n"
    )
    invs = found(text)
    assert [(w.value, w.loc.line, w.loc.column) for w in invs[0].words] == [
        ("run", 2, 10),
        ("-d", 2, 14),
        ("-p", 3, 5),
        ("80:80", 3, 8),
        ("nginx", 4, 5),
    ]
    assert [w.value for w in invs[1].words] == ["run", "-e", "A=1\n2", "x"]
    assert invs[1].words[-1].loc.line == 7
    assert [w.value for w in invs[2].words] == ["run", "-e", "B=1\n2", "y"]


def test_bash_block_with_prompts_is_a_transcript():
    text = "```bash\n$ docker run x\nCONTAINER ID   IMAGE\nit's output\n$ docker ps\n```\n"
    assert starts(text) == [(2, 3), (5, 3)]
    assert extract_markdown(text, "doc.md").problems == []


def test_hash_lines_root_prompt_or_comment():
    untagged = "```\n# docker run --privileged x\n```\n"
    console = "```console\n# docker run --privileged x\n```\n"
    bash = "```bash\n# docker run --privileged x\ndocker run y\n```\n"
    assert starts(untagged) == [(2, 3)]
    assert starts(console) == [(2, 3)]
    assert starts(bash) == [(3, 1)]


def test_indented_code_block():
    text = "Run this:\n\n    $ docker run --name indented x\n\nDone.\n"
    (inv,) = found(text)
    assert (inv.loc.line, inv.loc.column) == (3, 7)


def test_indented_prose_reads_only_commands_and_spans():
    text = (
        "!!! note\n"
        "\n"
        "    If you're using podman, read the docs. Run `docker run -d x` first.\n"
        "e.g.:\n"
        "        $ docker run -ti y\n"
    )
    invs = found(text)
    assert [(i.loc.line, i.loc.column) for i in invs] == [(3, 49), (5, 11)]
    assert extract_markdown(text, "doc.md").problems == []


def test_inline_code_spans():
    text = "Start it with `docker run -d nginx` or ``sudo podman run x``; `docker` alone is not.\n"
    invs = found(text)
    assert [(i.program, i.loc.line, i.loc.column, i.loc.end_column) for i in invs] == [
        ("docker", 1, 16, 35),
        ("podman", 1, 47, 59),
    ]


def test_prose_is_not_code():
    text = "Use docker run to start a container.\n\nThe docker run -d flag detaches.\n"
    assert found(text) == []


def test_placeholders_in_docs():
    text = "```console\n$ docker run -v <host-dir>:/data -d %%IMAGE%% {{ .Name }}\n```\n"
    (inv,) = found(text)
    assert [(w.text, w.value) for w in inv.words] == [
        ("run", "run"),
        ("-v", "-v"),
        ("<host-dir>:/data", UNKNOWN),
        ("-d", "-d"),
        ("%%IMAGE%%", UNKNOWN),
        ("{{ .Name }}", UNKNOWN),
    ]


def test_constants_carry_across_blocks():
    text = "```bash\nIMG=nginx:1.25\n```\n\ntext\n\n```bash\ndocker run $IMG\n```\n"
    (inv,) = found(text)
    assert inv.words[1].value == "nginx:1.25"


def test_unterminated_fence_reads_to_the_end():
    assert starts("```bash\ndocker run x\n") == [(2, 1)]


def test_looks_like_markdown():
    assert looks_like_markdown("Intro\n\n```bash\ndocker run x\n```\n")
    assert not looks_like_markdown("#!/bin/sh\ndocker run x\n")


@pytest.mark.parametrize(
    "text", ["```", "```bash\n$ ", "`docker `", "```console\n$ docker run 'x\n", "~~~\n\x00"]
)
def test_never_raises(text):
    result = extract_markdown(text, "doc.md")
    assert isinstance(result.invocations, list)


def test_inline_span_naming_the_subcommand_is_prose():
    text = "Use `docker run` to start one, `docker container create` to prepare one,\nor `docker run -d nginx:1.25`.\n"
    found = extract_markdown(text, "doc.md").invocations
    assert [(inv.loc.line, inv.loc.column) for inv in found] == [(2, 5)]
