"""Fuzzing the static pipeline and the inspect mapping as a whole.

tests/test_grammar.py, tests/sources/test_shell.py and test_inspect.py fuzz each part on its
own (random argv words, random text, odd inspect documents). These go
end to end, through `check_text`/`read_script`, from inputs shaped like real
ones: docker commands built from the option table, corpus commands mutated,
Markdown around them, inspect documents recorded from a real engine with
fields replaced. Properties: nothing escapes, every finding lies inside its
file, the same input gives the same output.

CI budget: 800 to 1,500 examples per test (about 30 s in all).
``DOCKAUDIT_FUZZ_EXAMPLES=20000`` runs a larger budget.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockaudit.api import check_text, read_script
from dockaudit.options import grammar_for
from dockaudit.sources.inspect import spec_from_inspect
from dockaudit.specjson import spec_to_dict
from tests.conftest import FIXTURES, shared_dir

EXAMPLES = int(os.environ.get("DOCKAUDIT_FUZZ_EXAMPLES", "0")) or None


def budget(ci: int):
    return settings(max_examples=EXAMPLES or ci, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@lru_cache(maxsize=1)
def corpus_lines() -> tuple[str, ...]:
    shared = shared_dir()
    path = shared / "corpus" / "commands.jsonl" if shared else None
    if path is None or not path.is_file():
        return ("docker run -d --name web -p 80:80 -v /srv:/srv:ro nginx:1.25",
                'cid="$(docker run -d -e A=1 --memory 512m "$IMAGE" sh -c \'echo hi\')"')
    with path.open(encoding="utf-8") as handle:
        return tuple(json.loads(line)["logical_line"] for line in handle)


def _flags() -> list[str]:
    grammar = grammar_for("docker", ("run",))
    assert grammar is not None
    return sorted(grammar.flags) + [f"-{c}" for c in sorted(grammar.shorts)]


VALUES = st.sampled_from([
    "512m", "0", "-1", "1.5", "80:80", "127.0.0.1:8080:80/udp", "/h:/c:ro", "vol:/data", "A=B",
    "host", "container:db", "always", "on-failure:3", "SYS_ADMIN", "seccomp=unconfined",
    "nofile=1024:2048", "/dev/sda:1mb", "type=bind,src=/a,dst=/b", "", "$VAR", '"$Q"', "${X:-1}",
    "$(date)", "'a b'", "\\", "=", ":::", "x" * 300, "é", "\t",
])
WORDS = st.one_of(st.sampled_from(_flags()), VALUES,
                  st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12))
IMAGES = st.sampled_from(["nginx:1.25", "alpine", "$IMAGE", "Bad/Name", "reg:5000/a/b@sha256:" + "a" * 64])


def check_properties(text: str, path: str) -> None:
    first = check_text(text, path)
    lines = len(text.splitlines()) + 1
    for finding in first:
        loc = finding.location
        if loc is None:
            continue
        assert 1 <= loc.line <= lines and loc.column >= 1, (finding, text)
        assert loc.end_line >= loc.line, finding
    assert [(f.rule_id, f.location, f.message) for f in check_text(text, path)] == \
        [(f.rule_id, f.location, f.message) for f in first]


@budget(1500)
@given(st.sampled_from(["docker run", "docker create", "sudo docker container run",
                        "podman run", "docker -H tcp://h:2375 run"]),
       st.lists(WORDS, max_size=10), IMAGES, st.lists(WORDS, max_size=3))
def test_commands_from_the_option_table(prefix, options, image, command):
    text = " ".join([prefix, *options, image, *command]) + "\n"
    check_properties(text, "fuzz.sh")


MUTATIONS = st.sampled_from(["delete", "insert", "duplicate", "swap", "truncate"])
NOISE = st.sampled_from(list("\"'`$(){}[]\\|&;<>#\n\t =:,") + ["$(", "${", "<<EOF\n", "\\\n",
                                                              "```", "\r\n", "\x00", "\udcff"])


@st.composite
def mutated_corpus_text(draw) -> str:
    lines = corpus_lines()
    text = "\n".join(draw(st.lists(st.sampled_from(lines), min_size=1, max_size=3)))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(MUTATIONS)
        at = draw(st.integers(0, len(text)))
        if kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 10)):]
        elif kind == "insert":
            text = text[:at] + draw(NOISE) + text[at:]
        elif kind == "duplicate":
            text = text[:at] + text[at:at + 20] + text[at:]
        elif kind == "swap":
            text = text[at:] + text[:at]
        else:
            text = text[:at]
    return text.encode("utf-8", "replace").decode("utf-8")


@budget(1500)
@given(mutated_corpus_text())
def test_mutated_corpus_scripts(text):
    check_properties(text + "\n", "fuzz.sh")


@budget(800)
@given(mutated_corpus_text(), st.sampled_from(["bash", "console", "sh", "", "shell", "powershell"]),
       st.sampled_from(["```", "~~~", "    "]))
def test_mutated_corpus_markdown(text, tag, fence):
    if fence == "    ":
        body = "\n".join("    " + line for line in text.splitlines())
    else:
        body = f"{fence}{tag}\n{text}\n{fence}"
    check_properties(f"# Title\n\nSome prose with `docker run`.\n\n{body}\n", "fuzz.md")


@budget(800)
@given(st.text(max_size=400))
def test_any_text_as_markdown_and_shell(text):
    for path in ("fuzz.md", "fuzz.sh", "fuzz.txt"):
        script = read_script(text, path)
        assert len(script.lines) == len(text.splitlines())
        check_properties(text, path)


RECORDED = sorted((FIXTURES / "inspect").glob("*.json"))
JSON = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**64) | st.floats() |
                    st.text(max_size=20), lambda inner: st.lists(inner, max_size=4) |
                    st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)


@st.composite
def mutated_inspect(draw) -> dict:
    doc = json.loads(draw(st.sampled_from(RECORDED)).read_text())
    doc = doc[0] if isinstance(doc, list) else doc
    for _ in range(draw(st.integers(1, 6))):
        section = draw(st.sampled_from(["Config", "HostConfig", "NetworkSettings", "State", None]))
        target = doc.get(section) if section else doc
        if not isinstance(target, dict) or not target:
            continue
        key = draw(st.sampled_from(sorted(target)))
        target[key] = draw(JSON)
    return doc


@budget(1000)
@given(mutated_inspect())
def test_mutated_inspect_documents(doc):
    first = spec_to_dict(spec_from_inspect(doc))
    assert spec_to_dict(spec_from_inspect(doc)) == first
    json.dumps(first)  # what dockaudit show --inspect prints
