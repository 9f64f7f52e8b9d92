"""Finding docker invocations in shell scripts: one test per construct, exact positions."""

from __future__ import annotations

import pytest

from dockaudit.model import UNKNOWN
from dockaudit.sources.shell import extract_shell, mask_placeholders


def found(text: str) -> list:
    return extract_shell(text, "s.sh").invocations


def where(inv) -> tuple[int, int, int, int]:
    loc = inv.loc
    return (loc.line, loc.column, loc.end_line, loc.end_column)


def words(inv) -> list[tuple[str, object, int, int]]:
    return [(w.text, w.value, w.loc.line, w.loc.column) for w in inv.words]


def values(inv) -> list[object]:
    return [w.value for w in inv.words]


def test_plain_command_positions():
    (inv,) = found("docker run -d nginx:1.25\n")
    assert inv.program == "docker"
    assert inv.context == "code"
    assert (inv.program_word.text, inv.program_word.loc.column) == ("docker", 1)
    assert where(inv) == (1, 1, 1, 25)
    assert words(inv) == [
        ("run", "run", 1, 8),
        ("-d", "-d", 1, 12),
        ("nginx:1.25", "nginx:1.25", 1, 15),
    ]
    assert inv.words[-1].loc.end_column == 25


def test_tabs_count_as_one_column():
    (inv,) = found("\tdocker\trun\t-d x\n")
    assert [(w.text, w.loc.column) for w in inv.words] == [("run", 9), ("-d", 13), ("x", 16)]


def test_line_continuations_keep_lines():
    text = "docker run \\\n  -p 80:80 \\\n  nginx\n"
    (inv,) = found(text)
    assert words(inv) == [
        ("run", "run", 1, 8),
        ("-p", "-p", 2, 3),
        ("80:80", "80:80", 2, 6),
        ("nginx", "nginx", 3, 3),
    ]
    assert where(inv) == (1, 1, 3, 8)


def test_podman_nerdctl_and_paths():
    text = "podman run a\nnerdctl create b\n/usr/bin/docker run c\ndocker.exe run d\n"
    invs = found(text)
    assert [(i.program, i.program_word.text, i.loc.line) for i in invs] == [
        ("podman", "podman", 1),
        ("nerdctl", "nerdctl", 2),
        ("docker", "/usr/bin/docker", 3),
        ("docker", "docker.exe", 4),
    ]


@pytest.mark.parametrize(
    "prefix",
    [
        "sudo ",
        "sudo -E ",
        "sudo -u deploy ",
        "sudo --user=deploy -E ",
        "env A=B ",
        "env -i PATH=/bin ",
        "exec ",
        "time ",
        "time -p ",
        "command ",
        "nohup ",
        "A=1 B=2 ",
        "sudo env A=1 ",
        "timeout 30 ",
        "nice -n 10 ",
        "! ",
    ],
)
def test_wrappers(prefix):
    (inv,) = found(f"{prefix}docker run -d x\n")
    assert inv.program_word.loc.column == len(prefix) + 1
    assert values(inv) == ["run", "-d", "x"]


def test_global_options_are_passed_through():
    (inv,) = found("docker -H tcp://h:2376 --context prod --tlsverify -l debug run x\n")
    assert values(inv) == [
        "-H",
        "tcp://h:2376",
        "--context",
        "prod",
        "--tlsverify",
        "-l",
        "debug",
        "run",
        "x",
    ]


def test_substitution_and_backticks():
    text = 'cid=$(docker run -d x)\nid=`docker create y`\necho "$(docker run z)"\n'
    invs = found(text)
    assert [(i.context, where(i)) for i in invs] == [
        ("substitution", (1, 7, 1, 22)),
        ("substitution", (2, 5, 2, 20)),
        ("substitution", (3, 9, 3, 21)),
    ]
    assert values(invs[0]) == ["run", "-d", "x"]


def test_nested_substitution_is_its_own_invocation():
    invs = found("docker rm -f $(docker ps -aq)\n")
    assert [(i.context, i.loc.column, values(i)[0]) for i in invs] == [
        ("code", 1, "rm"),
        ("substitution", 16, "ps"),
    ]
    assert invs[0].words[-1].value is UNKNOWN
    assert invs[0].words[-1].splits is True


def test_bash_c_string_positions():
    text = "bash -c 'docker run -v /:/host alpine'\n"
    (inv,) = found(text)
    assert inv.context == "sh-c"
    assert where(inv) == (1, 10, 1, 38)
    assert words(inv) == [
        ("run", "run", 1, 17),
        ("-v", "-v", 1, 21),
        ("/:/host", "/:/host", 1, 24),
        ("alpine", "alpine", 1, 32),
    ]


def test_sh_c_double_quoted_with_escapes_and_sudo():
    text = 'NAME=web\nsudo sh -ec "docker run --name \\"$NAME\\" x"\n'
    (inv,) = found(text)
    assert inv.context == "sh-c"
    assert inv.program_word.loc.column == 14
    assert words(inv) == [
        ("run", "run", 2, 21),
        ("--name", "--name", 2, 25),
        ('"$NAME\\"', "web", 2, 33),
        ("x", "x", 2, 42),
    ]


def test_ssh_with_options_and_quoted_command():
    text = "ssh -i key -p 22 -o StrictHostKeyChecking=no user@host 'docker run -d redis'\n"
    (inv,) = found(text)
    assert inv.context == "ssh"
    assert where(inv) == (1, 57, 1, 76)
    assert values(inv) == ["run", "-d", "redis"]


def test_ssh_with_unquoted_remote_words():
    (inv,) = found("ssh $HOST sudo docker run -d x\n")
    assert inv.context == "ssh"
    assert inv.program_word.loc.column == 16
    assert values(inv) == ["run", "-d", "x"]


def test_heredoc_fed_to_ssh_and_bash_is_code():
    text = "ssh host <<EOF\n  docker run -d a\nEOF\nbash <<'X'\ndocker run b\nX\ncat <<EOF\ndocker run c\nEOF\n"
    invs = found(text)
    assert [(i.context, where(i), values(i)) for i in invs] == [
        ("ssh", (2, 3, 2, 18), ["run", "-d", "a"]),
        ("sh-c", (5, 1, 5, 13), ["run", "b"]),
    ]


def test_eval_and_su():
    text = "eval docker run -d x\nsu - app -c 'docker create y'\n"
    invs = found(text)
    assert [(i.context, i.loc.line, i.loc.column, values(i)) for i in invs] == [
        ("sh-c", 1, 6, ["run", "-d", "x"]),
        ("sh-c", 2, 14, ["create", "y"]),
    ]


def test_eval_of_an_unknown_command_is_not_a_docker_command():
    text = 'CMD="docker run -d nginx:1.25"\neval $CMD\neval "$DOCKER_CMD"\n'
    assert [(i.loc.line, values(i)) for i in found(text)] == [(2, ["run", "-d", "nginx:1.25"])]


def test_trap_action_is_code():
    text = 'trap "docker rm -vf $cid > /dev/null" EXIT\ntrap - EXIT\ntrap \'docker stop web\' INT TERM\n'
    invs = found(text)
    assert [(i.context, i.loc.line, i.loc.column, i.words[0].value) for i in invs] == [
        ("trap", 1, 7, "rm"),
        ("trap", 3, 7, "stop"),
    ]


def test_command_word_resolving_to_docker():
    text = 'DOCKER=docker\nD2="sudo docker -H tcp://h"\n$DOCKER run a\n$D2 run b\n'
    first, second = found(text)
    assert (first.program_word.text, first.program_word.value, first.loc.line) == (
        "$DOCKER",
        "docker",
        3,
    )
    assert (second.program_word.text, second.program_word.value) == ("$D2", "docker")
    assert values(second) == ["-H", "tcp://h", "run", "b"]
    assert [w.loc.column for w in second.words] == [1, 1, 5, 9]


@pytest.mark.parametrize(
    ("text", "tool"),
    [
        ('"$DOCKER_BIN" run x\n', "docker"),
        ("${DOCKER} run x\n", "docker"),
        ("$docker_cmd run x\n", "docker"),
        ("$PODMAN run x\n", "podman"),
        ("${DOCKER:-docker} run x\n", "docker"),
        ("$(which docker) run x\n", "docker"),
    ],
)
def test_unresolved_variables_named_for_the_tool(text, tool):
    (inv,) = found(text)
    assert inv.program == tool
    assert inv.program_word.value is UNKNOWN
    assert values(inv) == ["run", "x"]


def test_unknown_prefix_variable_before_docker():
    (inv,) = found("$SUDO docker run x\n")
    assert inv.program_word.loc.column == 7


def test_constants_and_arrays():
    text = (
        "NET=blognet\n"
        "IMG=$REG/app\n"
        "ARGS=(--rm -e 'X=1 2')\n"
        'docker run --network "$NET" "${ARGS[@]}" ${ARGS[@]} $NET img\n'
    )
    (inv,) = found(text)
    assert values(inv) == [
        "run",
        "--network",
        "blognet",
        "--rm",
        "-e",
        "X=1 2",
        "--rm",
        "-e",
        "X=1",
        "2",
        "blognet",
        "img",
    ]
    spliced = inv.words[3:6]
    assert {(w.text, w.loc.column) for w in spliced} == {('"${ARGS[@]}"', 29)}
    assert not any(w.splits for w in inv.words)


@pytest.mark.parametrize(
    "setup",
    [
        "NET=a\nNET=b\n",  # assigned twice
        "f() {\n  NET=a\n}\n",  # in a function
        "for i in 1; do NET=a; done\n",  # in a loop
        "if true; then NET=a; fi\n",  # in a condition
        "[ -n x ] && NET=a\n",  # in an && list
        "read NET\n",  # read from input
        "NET=${NET:-default}\n",  # a default from the environment
        "NET=$(hostname)\n",  # a command's output
        ": ${NET:=x}\nNET=a\n",  # assigned by expansion
        "",  # never assigned
    ],
)
def test_non_constants_are_unknown(setup):
    (inv,) = found(setup + "docker run --network $NET x\n")
    assert inv.words[2].value is UNKNOWN
    assert inv.words[2].splits is True


def test_quoted_unknown_does_not_split_but_at_does():
    (inv,) = found('docker run "$X" "$@" $* "${A[@]}"\n')
    assert [(w.value, w.splits) for w in inv.words[1:]] == [
        (UNKNOWN, False),
        (UNKNOWN, True),
        (UNKNOWN, True),
        (UNKNOWN, True),
    ]


def test_use_before_assignment_is_unknown():
    (inv,) = found("docker run $NET x\nNET=a\n")
    assert inv.words[1].value is UNKNOWN


def test_quote_removal():
    (inv,) = found("docker run -e 'A=1 2' -e \"B=$'x'\" -e C=a\\ b $'tab\\there' x\n")
    assert values(inv) == ["run", "-e", "A=1 2", "-e", "B=$'x'", "-e", "C=a b", "tab\there", "x"]


def test_placeholders_are_unknown_words_not_redirections():
    text = "docker run -v <host-dir>:/data -e X=%%VALUE%% <image> [COMMAND]\n"
    (inv,) = found(text)
    assert words(inv) == [
        ("run", "run", 1, 8),
        ("-v", "-v", 1, 12),
        ("<host-dir>:/data", UNKNOWN, 1, 15),
        ("-e", "-e", 1, 32),
        ("X=%%VALUE%%", UNKNOWN, 1, 35),
        ("<image>", UNKNOWN, 1, 47),
        ("[COMMAND]", UNKNOWN, 1, 55),
    ]


def test_masking_keeps_lengths_and_real_redirections():
    text = "docker run <image> >/dev/null 2>&1 <in.txt >out.txt\n"
    masked = mask_placeholders(text)
    assert len(masked) == len(text)
    assert masked == "docker run _______ >/dev/null 2>&1 <in.txt >out.txt\n"


def test_redirections_are_not_words():
    (inv,) = found("docker run -d x >/dev/null 2>&1 < in.txt\n")
    assert values(inv) == ["run", "-d", "x"]
    assert where(inv) == (1, 1, 1, 16)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("docker run a; docker run b\n", [(1, 1), (1, 15)]),
        ("docker run a && docker run b || docker run c\n", [(1, 1), (1, 17), (1, 33)]),
        ("docker run a | tee log & docker run b\n", [(1, 1), (1, 26)]),
        ("(docker run a)\n{ docker run b; }\n", [(1, 2), (2, 3)]),
    ],
)
def test_command_separators(text, expected):
    assert [(i.loc.line, i.loc.column) for i in found(text)] == expected


def test_compound_commands_bashlex_cannot_read():
    text = (
        "run() {\n"
        "  if [[ $1 == x && -n $2 ]]; then\n"
        "    docker run -d a\n"
        "  fi\n"
        "  case $1 in\n"
        "    (a|b) docker run b ;;\n"
        "    c) x=$(( 1 + 2 )); docker run c ;;\n"
        "  esac\n"
        "  select s in a b; do docker run d; done\n"
        "  while read -r l\n"
        "  do docker run e; done < f\n"
        "}\n"
    )
    assert [(i.loc.line, i.loc.column) for i in found(text)] == [
        (3, 5),
        (6, 11),
        (7, 24),
        (9, 23),
        (11, 6),
    ]


def test_heredoc_bodies_are_data():
    text = (
        "cat <<-EOF > run.sh\n\tdocker run -d x\n\tEOF\ncat <<'E'\ndocker run y\nE\ndocker run z\n"
    )
    (inv,) = found(text)
    assert where(inv)[:2] == (7, 1)


def test_quoted_heredoc_inside_substitution():
    text = 'out=$(cat <<"EOF"\n)\nEOF\n)\ndocker run x\n'
    (inv,) = found(text)
    assert inv.loc.line == 5


@pytest.mark.parametrize(
    "text",
    [
        "# docker run -d x\n",
        "echo docker run -d x\n",
        "echo 'docker run -d x'\n",
        'printf "%s\\n" "docker run -d x"\n',
        'msg="docker run -d x"\n',
        "which docker\n",
        "command -v docker >/dev/null\n",
        "type docker\n",
        "apt-get install -y docker docker.io\n",
        "docker-compose up -d\n",
        "dockerd --debug\n",
        "systemctl start docker\n",
        "x=docker\n",
        "$DOCKER_COMPOSE up\n",
        "cat <<EOF\ndocker run x\nEOF\n",
        'log "running: docker run -d x"\n',
        "podman-remote run x\n",
    ],
)
def test_not_invocations(text):
    assert found(text) == []


def test_text_without_tool_is_not_read():
    assert extract_shell("echo 'unterminated\n", "s.sh").problems == []


def test_unreadable_region_is_a_problem_with_location():
    text = "ok=1\necho 'oops\ndocker run -d x\n"
    result = extract_shell(text, "s.sh")
    assert result.invocations == []
    (problem,) = result.problems
    assert (problem.loc.line, problem.loc.column) == (2, 6)
    assert "single quote" in problem.message


def test_unreadable_region_without_docker_is_not_reported():
    result = extract_shell("docker run x\necho 'oops\n", "s.sh")
    assert [i.loc.line for i in result.invocations] == [1]
    assert result.problems == []


@pytest.mark.parametrize(
    "text",
    [
        "docker run $(",
        "docker run ${",
        "docker run `x",
        'docker run "',
        "docker run <<",
        "docker run ((((((",
        "docker " + "$(" * 500,
        "docker run \\",
        "))) docker run x }}} fi done esac",
        "case docker in\n",
        "\x00docker\x00run",
        "docker run 'a'\"b\"$'c'$\"d\"",
    ],
)
def test_never_raises(text):
    result = extract_shell(text, "s.sh")
    assert isinstance(result.invocations, list)
    assert isinstance(result.problems, list)


def test_crlf_line_endings():
    (inv,) = found("X=a\r\ndocker run \\\r\n  -d $X\r\n")
    assert values(inv) == ["run", "-d", "a"]
    assert [(w.loc.line, w.loc.column) for w in inv.words] == [(2, 8), (3, 3), (3, 6)]


def test_invocations_in_file_order():
    text = "f() { docker run b; }\nx=$(docker run a) && docker run c\n"
    assert [(i.loc.line, i.loc.column) for i in found(text)] == [(1, 7), (2, 5), (2, 22)]


def test_substitutions_in_tests_loops_and_case_words_run():
    text = (
        "for c in $(docker ps -q); do echo $c; done\n"
        'if [[ "$(docker inspect -f x c)" == y ]]; then :; fi\n'
        "case $(docker info -f z) in *) ;; esac\n"
    )
    assert [(i.loc.line, i.loc.column, i.words[0].value) for i in found(text)] == [
        (1, 12, "ps"),
        (2, 10, "inspect"),
        (3, 8, "info"),
    ]


def test_ssh_options_after_the_host_and_heredoc():
    text = "ssh -i key deploy@h -p 5024 <<+\ndocker run -d x\n+\n"
    (inv,) = found(text)
    assert (inv.context, inv.loc.line, inv.loc.column) == ("ssh", 2, 1)


def test_command_word_named_for_ssh_runs_its_heredoc_remotely():
    text = "$SSH $HOST1 <<EOF\n  docker create --name=$NAME x\nEOF\n"
    (inv,) = found(text)
    assert (inv.context, inv.loc.line, inv.loc.column) == ("ssh", 2, 3)


def test_script_function_running_its_arguments():
    text = (
        "must_do() {\n"
        '  local cmd="${@}"\n'
        "  ${cmd}\n"
        "}\n"
        "must_do -v docker run --privileged alpine:3.19 true\n"
        "must_do echo docker\n"
        "undefined_helper docker run alpine:3.19\n"
    )
    (inv,) = found(text)
    assert where(inv)[:2] == (5, 12)
    assert [w.value for w in inv.words][:2] == ["run", "--privileged"]


def test_nvidia_docker_is_docker():
    (inv,) = found("nvidia-docker run --rm nvidia/cuda:12.2.0-base nvidia-smi\n")
    assert inv.program == "docker"
    assert inv.program_word.text == "nvidia-docker"
