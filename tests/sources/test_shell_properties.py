"""Properties over arbitrary shell-ish text: never raise, and every word is where it says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dockaudit.sources.markdown import extract_markdown
from dockaudit.sources.shell import extract_shell

_PIECES = [
    "docker", " run", " -d", " x", " -v a:b", " '", "'", '"', "$(", ")", "`", "${", "}",
    "\n", "\\\n", "\r\n", "\t", "<<EOF", "\nEOF\n", "<<'X'", "\nX\n", "case x in", "esac",
    "a)", ";;", "[[", "]]", "((", "))", "{", "if", "then", "fi", "for i in", "do", "done",
    "|", "&&", ";", "#", "$X", '"$@"', "<img>", "%%I%%", "{{ .A }}", "ssh h ", "bash -c ",
    "sudo ", "A=(", "```bash\n", "```\n", "$ ", "> ", " `\n",
]  # fmt: skip

texts = st.lists(st.sampled_from(_PIECES), min_size=1, max_size=50).map("".join)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_words_are_exactly_where_they_say(text):
    lines = text.split("\n")
    for extract in (extract_shell, extract_markdown):
        result = extract(text, "f")
        assert not any("could not be read (" in p.message for p in result.problems)
        for inv in result.invocations:
            assert inv.loc.line <= inv.loc.end_line
            for word in (inv.program_word, *inv.words):
                loc = word.loc
                assert (loc.line, loc.column) >= (inv.loc.line, inv.loc.column)
                if loc.line == loc.end_line:
                    assert lines[loc.line - 1][loc.column - 1 : loc.end_column - 1] == word.text
