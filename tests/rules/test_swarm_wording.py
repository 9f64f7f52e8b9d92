"""Container rules that fire on a Swarm service name the service's own flags, in message and fix.

`docker service create` has --limit-memory where `docker run` has -m, --restart-condition and
--restart-max-attempts where it has --restart on-failure:N, no --security-opt at all, and a
--publish that takes no address. A fix that names a flag the command does not have cannot be
followed; the same rules on `docker run` keep naming run's flags.
"""

from __future__ import annotations

import pytest

from dockaudit.api import check_text

ALL_RULES = {"profile": "cis"}


def finding(line: str, rule: str) -> tuple[str, str]:
    found = [f for f in check_text(f"#!/bin/sh\n{line}\n", "deploy.sh", config=ALL_RULES) if f.rule_id == rule]
    assert len(found) == 1, [(f.rule_id, f.message) for f in check_text(f"#!/bin/sh\n{line}\n", "deploy.sh")]
    return found[0].message, found[0].fix or ""



SERVICE = "docker service create --name api --replicas 2 --limit-memory 256m --limit-cpu 1 --limit-pids 100"
RUN = "docker run -d --restart unless-stopped --name api -m 256m --cpus 1 --pids-limit 100"


@pytest.mark.parametrize(("rule", "service", "words", "absent"), [
    ("DA101", "docker service create --name api --limit-cpu 1 --limit-pids 100 myorg/api:1.0",
     ["--limit-memory", "service's tasks"], ["-m/", "add -m", " --memory "]),
    ("DA101", "docker service create --name api --limit-memory 0 --limit-cpu 1 myorg/api:1.0",
     ["--limit-memory 0", "--limit-memory 512m"], ["--memory 0", "-m 512m"]),
    ("DA102", "docker service create --name api --limit-memory 64m --limit-pids 100 myorg/api:1.0",
     ["--limit-cpu"], ["--cpus", "--cpu-quota"]),
    ("DA103", "docker service create --name api --limit-memory 64m --limit-cpu 1 myorg/api:1.0",
     ["--limit-pids"], ["--pids-limit"]),
    ("DA305", f"{SERVICE} --restart-condition on-failure myorg/api:1.0",
     ["--restart-condition on-failure", "--restart-max-attempts"], ["--restart on-failure"]),
    ("DA305", f"{SERVICE} --restart-condition on-failure --restart-max-attempts 50 myorg/api:1.0",
     ["--restart-max-attempts 50", "--restart-max-attempts 5"], ["on-failure:"]),
    ("DA403", f"{SERVICE} --publish 8080:80 myorg/api:1.0",
     ["--publish 8080:80", "every node", "overlay network"], ["-p ", "127.0.0.1"]),
    ("DA403", f"{SERVICE} --publish mode=host,published=8080,target=80 myorg/api:1.0",
     ["the node that runs the task"], ["every node", "127.0.0.1"]),
    ("DA405", f"{SERVICE} --publish 5432:5432 myorg/api:1.0",
     ["--publish 5432:5432", "every node"], ["-p ", "127.0.0.1"]),
    ("DA509", f"{SERVICE} myorg/api:1.0",
     ["service's tasks", "daemon.json on every node"], ["add --security-opt"]),
    ("DA510", f"{SERVICE} --user root myorg/api:1.0",
     ["--user root", "service's tasks", "--user 1000:1000"], ["-u "]),
])
def test_a_service_finding_names_the_service_flags(rule, service, words, absent):
    message, fix = finding(service, rule)
    text = f"{message} | {fix}"
    for word in words:
        assert word in text
    for word in absent:
        assert word not in text


@pytest.mark.parametrize(("rule", "run", "words"), [
    ("DA101", "docker run -d --restart unless-stopped --name api --cpus 1 --pids-limit 100 myorg/api:1.0", ["-m"]),
    ("DA102", "docker run -d --restart unless-stopped --name api -m 64m --pids-limit 100 myorg/api:1.0", ["--cpus"]),
    ("DA103", "docker run -d --restart unless-stopped --name api -m 64m --cpus 1 myorg/api:1.0", ["--pids-limit"]),
    ("DA305", f"{RUN} --restart on-failure myorg/api:1.0", ["--restart on-failure:5"]),
    ("DA403", f"{RUN} -p 8080:80 myorg/api:1.0", ["-p 8080:80", "of the host", "-p 127.0.0.1:8080:80"]),
    ("DA509", f"{RUN} myorg/api:1.0", ["--security-opt no-new-privileges"]),
    ("DA510", f"{RUN} -u root myorg/api:1.0", ["-u root", "-u 1000:1000"]),
])
def test_the_same_rules_on_docker_run_keep_run_flags(rule, run, words):
    message, fix = finding(run, rule)
    text = f"{message} | {fix}"
    for word in words:
        assert word in text
    assert "--limit-" not in text and "service" not in text
