"""Record `docker inspect` fixtures from a private engine.

Starts the test engine (tests/engine.py: its own dockerd, socket and bridge,
a busybox image tagged under the names used below), creates the containers of
`CASES`, and writes fixtures/inspect/<name>.json (the engine's inspect
document) and <name>.cmd (the command that made it). Unit tests read these
instead of needing an engine.

Containers marked to run are started (busybox: ``nginx:1.25`` and
``ubuntu:22.04`` run ``sh`` and exit at once). Privileged containers and
broad capability sets can be created but not started on these machines, so
they are only created.

Usage: python tools/capture_inspect.py [--out DIR] [NAME ...]
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from engine import Engine, start_engine  # noqa: E402

# Containers the cases refer to, made first and not recorded.
SETUP = (
    "docker volume create appdata",
    "docker network create --subnet {subnet} appnet",
    "docker run -d --name db busybox:1.36 sleep 100000",
    "docker create --name volsrc -v /shared busybox:1.36 true",
)

# name -> command; the container is named after the case.
CASES: dict[str, str] = {
    "baseline": "docker create --name baseline busybox:1.36 sleep 100000",
    "privileged": "docker create --name privileged --privileged busybox:1.36 sleep 100000",
    "ports": "docker create --name ports -p 80 -p 127.0.0.1:8080:80/udp -p 8000-8002:8000-8002 "
             "-p 9000-9010:9090 -p [::1]:8443:443 -p 0.0.0.0:2222:22 --expose 7000 busybox:1.36 sleep 100000",
    "publish-all": "docker create --name publish-all -P --expose 7000 --expose 53/udp busybox:1.36 sleep 100000",
    "binds": "docker create --name binds -v /srv/app/config:/etc/app:ro "
             "-v /var/run/docker.sock:/var/run/docker.sock -v /srv/data:/data:rshared "
             "--mount type=bind,src=/etc,dst=/host-etc,readonly busybox:1.36 sleep 100000",
    "volumes": "docker create --name volumes -v appdata:/var/lib/app -v /cache "
               "--mount type=volume,dst=/scratch-volume --mount type=volume,src=appdata,dst=/ro-data,readonly "
               "--volumes-from volsrc:ro busybox:1.36 sleep 100000",
    "tmpfs": "docker create --name tmpfs --read-only --tmpfs /run:exec,size=64m --tmpfs /tmp "
             "--mount type=tmpfs,dst=/scratch,tmpfs-size=1m,tmpfs-mode=1777 busybox:1.36 sleep 100000",
    "caps": "docker create --name caps --cap-add SYS_ADMIN --cap-add net_admin --cap-drop ALL "
            "busybox:1.36 sleep 100000",
    "security-opts": "docker create --name security-opts --security-opt seccomp=unconfined "
                     "--security-opt apparmor=unconfined --security-opt no-new-privileges "
                     "--security-opt systempaths=unconfined busybox:1.36 sleep 100000",
    "security-colon": "docker create --name security-colon --security-opt seccomp:unconfined "
                      "--security-opt label=disable busybox:1.36 sleep 100000",
    "namespaces": "docker create --name namespaces --pid host --ipc host --uts host --userns host "
                  "--cgroupns host busybox:1.36 sleep 100000",
    "restart-on-failure": "docker create --name restart-on-failure --restart on-failure:10 "
                          "busybox:1.36 sleep 100000",
    "healthcheck": "docker create --name healthcheck --health-cmd 'wget -q -O- http://localhost/ || exit 1' "
                   "--health-interval 30s --health-timeout 5s --health-retries 3 --health-start-period 10s "
                   "busybox:1.36 sleep 100000",
    "no-healthcheck": "docker create --name no-healthcheck --no-healthcheck busybox:1.36 sleep 100000",
    "logging": "docker create --name logging --log-driver json-file --log-opt max-size=10m "
               "--log-opt max-file=3 busybox:1.36 sleep 100000",
    "logging-none": "docker create --name logging-none --log-driver none busybox:1.36 sleep 100000",
    "resources": "docker create --name resources -m 512m --cpus 1.5 --pids-limit 100 "
                 "--memory-reservation 256m --cpu-shares 512 --shm-size 128m --ulimit nofile=1024:2048 "
                 "--device-read-bps /dev/vda:1mb --oom-score-adj 100 busybox:1.36 sleep 100000",
    "swap-unlimited": "docker create --name swap-unlimited -m 256m --memory-swap -1 --oom-kill-disable "
                      "busybox:1.36 sleep 100000",
    "mysql": "docker create --name mysql -e MYSQL_ROOT_PASSWORD=secret -e MYSQL_DATABASE=app "
             "-p 3306:3306 mysql:5.7",
    "user-root": "docker create --name user-root -u root busybox:1.36 sleep 100000",
    "user-uid": "docker create --name user-uid -u 1000:1000 -w /srv --group-add audio busybox:1.36 sleep 100000",
    "net-host": "docker create --name net-host --network host -p 80:80 busybox:1.36 sleep 100000",
    "net-container": "docker create --name net-container --network container:db busybox:1.36 sleep 100000",
    "links": "docker create --name links --link db:database --link volsrc busybox:1.36 sleep 100000",
    "user-network": "docker create --name user-network --network appnet --network-alias web "
                    "--ip {ip} --link db:database busybox:1.36 sleep 100000",
    "devices": "docker create --name devices --device /dev/null:/dev/mynull:rw "
               "--device-cgroup-rule 'c 1:3 mr' --sysctl net.ipv4.ip_forward=1 busybox:1.36 sleep 100000",
    "misc": "docker create --name misc -it --rm -h web01 --dns 9.9.9.9 --add-host db:10.0.0.5 "
            "-l com.example.team=infra -e APP_MODE=prod -e HTTP_PROXY --entrypoint /bin/sh "
            "--stop-signal SIGINT --init busybox:1.36 -c 'sleep 100000'",
    "image-latest": "docker create --name image-latest nginx sleep 100000",
    # started: runtime states
    "running": "docker run -d --name running --restart unless-stopped -m 64m busybox:1.36 "
               "sh -c 'sleep 100000 & sleep 100000 & wait'",
    "exited-shell": "docker run -d --name exited-shell ubuntu:22.04",
    "unhealthy": "docker run -d --name unhealthy --health-cmd false --health-interval 1s "
                 "--health-retries 1 busybox:1.36 sleep 100000",
    "oom-killed": "docker run -d --name oom-killed -m 16m busybox:1.36 "
                  "sh -c 'sleep 1; head -c 200m /dev/zero | tail'",
    "restart-loop": "docker run -d --name restart-loop --restart always busybox:1.36 sh -c 'exit 1'",
}

IMAGES = ("busybox:1.36", "mysql:5.7", "nginx", "ubuntu:22.04")
SETTLE_SECONDS = 6.0  # long enough for the OOM kill, the failing healthcheck and a few restarts


def argv_of(command: str, **values: str) -> list[str]:
    """The docker CLI arguments of *command* (without ``docker``), never pulling."""
    words = shlex.split(command.format(**values))
    assert words[0] == "docker", command
    if words[1] in {"run", "create"}:
        return [words[1], "--pull", "never", *words[2:]]
    return words[1:]


def capture(engine: Engine, out: Path, only: set[str]) -> list[str]:
    subnet = engine.free_subnet()
    values = {"subnet": subnet, "ip": subnet.rsplit(".", 1)[0] + ".10"}
    for image in IMAGES:
        engine.tag(image)
    for command in SETUP:
        engine.docker(*argv_of(command, **values))
    written = []
    cases = {name: cmd for name, cmd in CASES.items() if not only or name in only}
    for command in cases.values():
        engine.docker(*argv_of(command, **values))
    if any(" run " in cmd for cmd in cases.values()):
        time.sleep(SETTLE_SECONDS)
    api = engine.client().api
    out.mkdir(parents=True, exist_ok=True)
    for name, command in cases.items():
        doc = api.inspect_container(name)
        (out / f"{name}.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        (out / f"{name}.cmd").write_text(command.format(**values) + "\n")
        written.append(name)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=REPO / "fixtures" / "inspect")
    parser.add_argument("names", nargs="*", help="cases to record (default: all)")
    args = parser.parse_args(argv)
    unknown = set(args.names) - set(CASES)
    if unknown:
        parser.error(f"unknown case(s): {', '.join(sorted(unknown))}")
    engine = start_engine()
    try:
        written = capture(engine, args.out, set(args.names))
    finally:
        engine.stop()
    print(f"wrote {len(written)} fixtures to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
