"""A private Docker engine for the tests.

`start_engine()` runs its own ``dockerd`` (and the containerd it manages) with
its own data root, exec root, pid file, Unix socket and bridge, so it shares
nothing with an engine the machine may already run: no ``docker0``, no
iptables rules (``--iptables=false``), no userland proxy. It then makes a
busybox image with ``docker import`` from a rootfs holding Debian's static
busybox (no registry involved) and tags it under whatever image names the
tests use (`Engine.tag`). Tests talk to it only over its socket.

`Engine.stop()` ends the daemon it started (by pid), unmounts what the daemon
left mounted under its directory, removes the directory and the bridge.

Also usable from tools: ``tools/capture_inspect.py`` records fixtures with it.
"""

from __future__ import annotations

import io
import itertools
import ipaddress
import os
import shutil
import signal
import struct
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUSYBOX = Path("/bin/busybox")
BASE_IMAGE = "dockaudit-test/busybox:base"
PASSWD = "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
GROUP = "root:x:0:\naudio:x:29:\nnogroup:x:65534:\n"


class EngineUnavailable(Exception):
    """The private engine cannot run here (no root, no dockerd, no busybox-static)."""


def _is_static_elf(path: Path) -> bool:
    """True for an ELF executable without a program interpreter (statically linked)."""
    with path.open("rb") as fh:
        head = fh.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
            return False
        phoff = struct.unpack_from("<Q", head, 0x20)[0]
        phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
        fh.seek(phoff)
        table = fh.read(phentsize * phnum)
    for i in range(phnum):
        if struct.unpack_from("<I", table, i * phentsize)[0] == 3:  # PT_INTERP
            return False
    return True


def busybox_rootfs() -> bytes:
    """A tar of a minimal root filesystem: static busybox, its applets, passwd/group."""
    if not BUSYBOX.exists():
        raise EngineUnavailable(f"{BUSYBOX} is missing (apt-get install busybox-static)")
    if not _is_static_elf(BUSYBOX):
        raise EngineUnavailable(f"{BUSYBOX} is not statically linked (install busybox-static)")
    listing = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True)
    applets = sorted({name for name in listing.stdout.split() if name and "/" not in name})
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:

        def add_dir(name: str, mode: int = 0o755) -> None:
            info = tarfile.TarInfo(name)
            info.type = tarfile.DIRTYPE
            info.mode = mode
            tar.addfile(info)

        def add_file(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = mode
            tar.addfile(info, io.BytesIO(data))

        for name in ("bin", "etc", "proc", "sys", "dev", "root", "var", "run"):
            add_dir(name)
        add_dir("tmp", 0o1777)
        add_file("bin/busybox", BUSYBOX.read_bytes(), 0o755)
        for applet in applets:
            if applet == "busybox":
                continue
            link = tarfile.TarInfo(f"bin/{applet}")
            link.type = tarfile.SYMTYPE
            link.linkname = "busybox"
            tar.addfile(link)
        add_file("etc/passwd", PASSWD.encode())
        add_file("etc/group", GROUP.encode())
    return buf.getvalue()


def _free_subnet(offset: int = 0) -> ipaddress.IPv4Network:
    """A /24 under 10.213.0.0/16 that no interface of this machine uses."""
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    used = []
    for line in out.splitlines():
        parts = line.split()
        if "inet" in parts:
            used.append(ipaddress.ip_interface(parts[parts.index("inet") + 1]).network)
    start = os.getpid() % 100 + offset
    for i in range(250):
        net = ipaddress.ip_network(f"10.213.{(start + i) % 250 + 1}.0/24")
        if not any(net.overlaps(other) for other in used):
            return net
    raise EngineUnavailable("no free 10.213.x.0/24 subnet for the test bridge")


_ENGINES_STARTED = itertools.count()


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True)


@dataclass
class Engine:
    """A running private dockerd and what it needs to be cleaned up."""

    root: Path
    process: subprocess.Popen[bytes]
    bridge: str
    base_image_id: str = ""
    _tags: set[str] = field(default_factory=set)
    _client: Any = None

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    def env(self) -> dict[str, str]:
        """The environment for a docker CLI (or dockaudit) aimed at this engine only."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env["DOCKER_HOST"] = self.url
        env["DOCKER_CONFIG"] = str(self.root / "cli-config")
        return env

    def client(self) -> Any:
        """A docker SDK client on this engine's socket (shared, created once)."""
        if self._client is None:
            import docker

            self._client = docker.DockerClient(base_url=self.url, version="1.41", timeout=60)
        return self._client

    def docker(self, *args: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the docker CLI against this engine."""
        if shutil.which("docker") is None:
            raise EngineUnavailable("the docker CLI is not installed")
        proc = subprocess.run(["docker", *args], capture_output=True, text=True, env=self.env(),
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    def tag(self, name: str) -> str:
        """Make *name* (``mysql:5.7``, ``nginx``) name the busybox image; returns the full tag."""
        ref = name if _has_tag(name) else f"{name}:latest"
        if ref not in self._tags:
            repo, tag = ref.rsplit(":", 1)
            self.client().api.tag(self.base_image_id, repo, tag)
            self._tags.add(ref)
        return ref

    def remove_containers(self, *names_or_ids: str) -> None:
        """Remove the given containers, with their anonymous volumes."""
        api = self.client().api
        for target in names_or_ids:
            try:
                api.remove_container(target, force=True, v=True)
            except Exception:  # already gone, or removal in progress
                pass

    def remove_networks(self) -> None:
        """Remove the networks tests created (each is a bridge on this machine)."""
        api = self.client().api
        for network in api.networks():
            if network.get("Name") not in {"bridge", "host", "none"}:
                try:
                    api.remove_network(network["Id"])
                except Exception:  # still in use or already gone
                    pass

    def free_subnet(self) -> str:
        """A /24 no interface of this machine uses, for a test network."""
        return str(_free_subnet(offset=100))

    def stop(self) -> None:
        """Stop the daemon, unmount what it left behind, remove its files and bridge."""
        if self._client is not None:
            if self.process.poll() is None:
                self.remove_containers(*(c["Id"] for c in self.client().api.containers(all=True)))
                self.remove_networks()
            try:
                self._client.close()
            except Exception:
                pass
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        _kill_pidfile(self.root / "exec" / "containerd" / "containerd.pid")
        _unmount_under(self.root)
        shutil.rmtree(self.root, ignore_errors=True)
        _run("ip", "link", "del", self.bridge)


def _has_tag(name: str) -> bool:
    last = name.rsplit("/", 1)[-1]
    return ":" in last


def _kill_pidfile(path: Path) -> None:
    """Kill the process named in *path* (a daemon this engine started) if it still runs."""
    try:
        pid = int(path.read_text().strip())
    except (OSError, ValueError):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _unmount_under(root: Path) -> None:
    prefix = str(root)
    points = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            mount_point = line.split()[4].replace("\\040", " ")
            if mount_point == prefix or mount_point.startswith(prefix + "/"):
                points.append(mount_point)
    for point in sorted(points, key=len, reverse=True):
        _run("umount", "-l", point)


def start_engine(timeout: float = 30.0, extra_args: tuple[str, ...] = ()) -> Engine:
    """Start a private dockerd and prepare the busybox image; raise EngineUnavailable when impossible.

    *extra_args* are more dockerd options (``--authorization-plugin=…``).
    """
    if os.geteuid() != 0:
        raise EngineUnavailable("dockerd needs root")
    dockerd = shutil.which("dockerd") or ("/usr/sbin/dockerd" if Path("/usr/sbin/dockerd").exists() else None)
    if dockerd is None:
        raise EngineUnavailable("dockerd is not installed (apt-get install docker.io)")
    if shutil.which("ip") is None:
        raise EngineUnavailable("the ip command (iproute2) is needed for the test bridge")
    rootfs = busybox_rootfs()

    root = Path(tempfile.mkdtemp(prefix="da-engine-", dir="/tmp"))
    bridge = f"da{os.getpid() % 0xFFFFFF:x}b{next(_ENGINES_STARTED)}"  # several engines in one process
    subnet = _free_subnet()
    gateway = f"{next(subnet.hosts())}/{subnet.prefixlen}"
    for argv in (("ip", "link", "add", bridge, "type", "bridge"),
                 ("ip", "addr", "add", gateway, "dev", bridge),
                 ("ip", "link", "set", bridge, "up")):
        proc = _run(*argv)
        if proc.returncode != 0:
            _run("ip", "link", "del", bridge)
            shutil.rmtree(root, ignore_errors=True)
            raise EngineUnavailable(f"cannot create the test bridge: {' '.join(argv)}: {proc.stderr.strip()}")

    argv = [
        dockerd,
        "--data-root", str(root / "data"),
        "--exec-root", str(root / "exec"),
        "--pidfile", str(root / "dockerd.pid"),
        "-H", f"unix://{root / 'docker.sock'}",
        "--bridge", bridge,
        "--iptables=false",
        "--ip-masq=false",
        "--ip-forward=false",
        "--userland-proxy=false",
        "--storage-driver", os.environ.get("DOCKAUDIT_TEST_STORAGE_DRIVER", "overlay2"),
        "--shutdown-timeout", "2",
        "--log-level", "warn",
        *extra_args,
    ]
    log = (root / "dockerd.log").open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               start_new_session=True)
    log.close()
    engine = Engine(root=root, process=process, bridge=bridge)
    try:
        _wait_ready(engine, timeout)
        engine.base_image_id = _import_image(engine, rootfs)
    except EngineUnavailable as exc:
        tail = _tail(engine.log)
        engine.stop()
        raise EngineUnavailable(f"{exc}\n{tail}") from None
    except BaseException:
        engine.stop()
        raise
    return engine


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _wait_ready(engine: Engine, timeout: float) -> None:
    import docker

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if engine.process.poll() is not None:
            raise EngineUnavailable(f"dockerd exited with status {engine.process.returncode}")
        if engine.socket.exists():
            try:
                api = docker.APIClient(base_url=engine.url, version="1.41", timeout=5)
                try:
                    if api.ping():
                        return
                finally:
                    api.close()
            except Exception:
                pass
        time.sleep(0.2)
    raise EngineUnavailable(f"dockerd did not answer on {engine.socket} within {timeout:.0f} s")


def _import_image(engine: Engine, rootfs: bytes) -> str:
    api = engine.client().api
    repo, tag = BASE_IMAGE.rsplit(":", 1)
    api.import_image_from_data(rootfs, repository=repo, tag=tag, changes=['CMD ["sh"]'])
    return api.inspect_image(BASE_IMAGE)["Id"]
