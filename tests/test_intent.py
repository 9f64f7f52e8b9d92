"""What a file is for and what each container in it is for (dockaudit.intent)."""

from __future__ import annotations

import pytest

from dockaudit.api import read_script


def lifecycles(text: str, path: str = "deploy.sh") -> list[str]:
    return [c.spec.lifecycle for c in read_script(text, path).commands if c.spec is not None]


@pytest.mark.parametrize(("path", "text", "purpose"), [
    ("README.md", "```sh\ndocker run -d nginx:1.25\n```\n", "doc"),
    ("test/tests/redis/run.sh", "docker run --rm redis:7 redis-cli ping\n", "ci-test"),
    ("ci/build.sh", "docker run --rm golang:1.22 go test ./...\n", "ci-test"),
    ("home/.dockerfunc", "docker run -d nginx:1.25\n", "dev"),
    ("scripts/desktop/apps.sh", "docker run -d nginx:1.25\n", "dev"),
    ("apps.sh", "docker run -d -e DISPLAY -v /tmp/.X11-unix:/tmp/.X11-unix myorg/gimp:2\n", "dev"),
    ("tools/wrappers.sh", "#!/bin/bash\nhttp() {\n  docker run --rm myorg/httpie:3 \"$@\"\n}\n"
                          "jq() {\n  docker run --rm -i myorg/jq:1 \"$@\"\n}\n", "dev"),
    ("tools/run.sh", "#!/bin/bash\nstart() {\n  docker run -d myorg/a:1\n}\nstop() {\n  docker stop a\n}\n"
                     "start\n", "deploy"),
    ("release/publish.sh", "docker run --rm myorg/tool:1 pack\n", "build"),
    ("extract.sh", "docker create --name tmp myorg/app:1\ndocker cp tmp:/bin/app .\n", "build"),
    ("deploy.sh", "docker run -d --restart always nginx:1.25\n", "deploy"),
])
def test_purpose(path: str, text: str, purpose: str) -> None:
    script = read_script(text, path)
    assert script.purpose == purpose, script.purpose_why


def test_the_path_of_the_checkout_itself_does_not_count() -> None:
    assert read_script("docker run -d nginx:1.25\n", "/home/ci/test/repo/ops/deploy.sh").purpose == "deploy"


@pytest.mark.parametrize(("text", "expected"), [
    ("docker run -d --restart unless-stopped nginx:1.25\n", ["service"]),
    ("docker run -d nginx:1.25\n", ["background"]),
    ("docker run --rm -d nginx:1.25\n", ["temporary"]),
    ("docker run nginx:1.25\n", ["foreground"]),
    ("docker run -d --name web nginx:1.25\ndocker rm -f web\n", ["temporary"]),
    ("docker run -d --name \"$N\" nginx:1.25\ndocker stop ${N}\n", ["temporary"]),
    ("cid=$(docker run -d nginx:1.25)\ndocker kill \"$cid\"\n", ["temporary"]),
    ("cid=\"$(docker run -d nginx:1.25)\"\ntrap 'docker rm -f $cid' EXIT\n", ["temporary"]),
    ("docker create --name t myorg/app:1\ndocker cp t:/app .\n", ["copy-only"]),
    ("docker create --name t myorg/app:1\ndocker start t\n", ["background"]),
    ("docker run -d busybox:1.36 ls /\n", ["one-shot"]),
    ("docker run -d myorg/x:1 sh -c 'mkdir -p /k && mv /a /k'\n", ["one-shot"]),
    ("docker run -d myorg/x:1 sh -c 'while true; do sleep 1; done'\n", ["background"]),
])
def test_lifecycle(text: str, expected: list[str]) -> None:
    assert lifecycles(text) == expected


def test_removing_another_container_does_not_end_this_one() -> None:
    assert lifecycles("docker run -d --name web nginx:1.25\ndocker rm -f db\n") == ["background"]


def test_markdown_blocks_are_alternatives_unless_one_builds_on_another() -> None:
    text = ("```sh\ndocker network create net\ndocker run -d --name db --network net postgres:16\n```\n"
            "```sh\ndocker run -d --name app --network net myorg/app:1\n```\n"
            "```sh\ndocker run -d --name db postgres:17\n```\n")
    script = read_script(text, "README.md")
    # the app block builds on the first; the last re-makes db: a variant of the first, alone
    assert script.scopes == ((0, 1), (0, 1, 2), (3,))
    assert read_script("docker run -d --name a x:1\n", "a.sh").scopes is None
