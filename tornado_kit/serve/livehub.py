"""Live reload in the parent: a Unix socket every app process connects to, and the tab count.

The parent knows what changed and which app process serves; the tabs' streams live in the app
processes (they share the listening socket, so the parent cannot answer HTTP itself). Stylesheet and
template changes go down this socket as `css PATH` / `reload PATH`; each app process reports how many
tabs it holds (`tabs N`), so the terminal can say how many tabs followed a save.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
from pathlib import Path

from tornado_kit.serve.protocol import Signal, decode, encode


class LiveHub:
    """Parent side of live reload: app processes by pid, their tab counts, broadcasts."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="tkit-live-"))
        self.path = str(self.folder / "live.sock")
        self.session = secrets.token_hex(4)  # a restarted dev server is a new session: tabs reload
        self.children: dict[asyncio.StreamWriter, list[int]] = {}  # writer -> [pid, tabs]
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        """Listen for app processes."""
        self.server = await asyncio.start_unix_server(self._on_child, self.path)

    async def _on_child(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        entry = self.children.setdefault(writer, [0, 0])
        try:
            while line := await reader.readline():
                message = decode(line)
                if message is not None and message.signal in (Signal.HELLO, Signal.TABS):
                    entry[message.signal is Signal.TABS] = message.number(0)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.children.pop(writer, None)
            writer.close()

    def tabs(self, excluding: int | None = None) -> int:
        """Tabs connected to every app process (but `excluding`)."""
        return sum(tabs for pid, tabs in self.children.values() if pid != excluding)

    def send(self, signal: Signal, path: str) -> int:
        """Tell every app process (and so every tab); return how many tabs were told."""
        try:
            line = encode(signal, path)
        except ValueError:
            return 0
        for writer in list(self.children):
            if not writer.is_closing():
                writer.write(line)
        return self.tabs()

    async def close(self) -> None:
        """Stop listening and remove the socket's folder."""
        if self.server is not None:
            self.server.close()
            for writer in list(self.children):
                writer.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.server.wait_closed(), timeout=1.0)
        shutil.rmtree(self.folder, ignore_errors=True)
