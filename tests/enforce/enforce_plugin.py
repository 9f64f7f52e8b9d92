"""`dockaudit enforce serve` run as a process on a private engine's plugin socket.

Each run gets its own plugin name, so its socket under /run/docker/plugins/
is its own while other engines and plugins run on the machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

from dockaudit.enforce.server import socket_answers
from test_cli import COMMAND

PLUGIN_DIR = Path("/run/docker/plugins")


class PluginProcess:
    """The plugin process; restarted with other options as tests need."""

    def __init__(self, workdir: Path, config: str) -> None:
        self.name = f"dockaudit-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.socket = PLUGIN_DIR / f"{self.name}.sock"
        self.config = workdir / "policy.yaml"
        self.config.write_text(config)
        self.log = workdir / "decisions.jsonl"
        self.stderr = workdir / "plugin.stderr"
        self.options: tuple[str, ...] = ()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, *options: str) -> None:
        """(Re)start the plugin with *options* (``--dry-run``); wait until it answers."""
        self.stop()
        self.options = options
        argv = [*COMMAND, "enforce", "serve", "--socket", str(self.socket), "--config", str(self.config),
                "--log", str(self.log), *options]
        with self.stderr.open("ab") as err:
            self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the plugin exited ({self.process.returncode}): {self.stderr.read_text()}")
            if socket_answers(self.socket):
                return
            time.sleep(0.05)
        raise RuntimeError(f"the plugin did not answer on {self.socket}")

    def ensure(self, *options: str) -> None:
        """The plugin runs with exactly *options*."""
        if self.process is None or self.process.poll() is not None or self.options != options:
            self.start(*options)

    def stop(self) -> int | None:
        """Stop it by its pid (SIGTERM); its exit status."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        return process.returncode

    def records(self) -> list[dict[str, Any]]:
        """Every line of the decision log, parsed."""
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def decisions(self, since: int = 0) -> list[dict[str, Any]]:
        return [r for r in self.records()[since:] if "decision" in r]

