"""A TCP proxy in front of the test database that a test severs, stalls and restores.

Tests simulate a database outage with it (never by stopping the shared server): ``sever()``
cuts every connection; ``sever_when(pattern)`` cuts them the moment a client sends bytes that
contain ``pattern`` (before forwarding them), so that a test can lose the database at an exact
point of a migration; ``stall_when(pattern)`` stops forwarding at that point, without closing
anything, until ``resume()``: a database that hangs instead of refusing.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob

from sqlalchemy.engine import URL


class DbProxy:
    """A TCP proxy in front of the test database (see the module doc)."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.port = 0
        self._sever_on: bytes | None = None
        self._stall_on: bytes | None = None
        self._flowing = asyncio.Event()
        self._flowing.set()
        self.triggered = asyncio.Event()

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        socket_dir = self.url.query.get("host")
        if self.url.host is None and isinstance(socket_dir, str):
            path = glob.glob(f"{socket_dir}/.s.PGSQL.*")[0]
            return await asyncio.open_unix_connection(path)
        return await asyncio.open_connection(self.url.host or "127.0.0.1", self.url.port or 5432)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._upstream()
        self.links |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter, client: bool) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    if client and self._watch(data):
                        return
                    await self._flowing.wait()
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer, True), pump(up_reader, writer, False))

    def _watch(self, data: bytes) -> bool:
        """Act on a client's bytes; True when the link was cut."""
        if self._stall_on is not None and self._stall_on in data:
            self._stall_on = None
            self._flowing.clear()
            self.triggered.set()
        if self._sever_on is not None and self._sever_on in data:
            self._sever_on = None
            self.triggered.set()
            for link in self.links:
                link.close()
            self.links.clear()
            if self.server is not None:
                self.server.close()
                self.server = None
            return True
        return False

    async def start(self) -> URL:
        """Listen (on the same port after a sever); returns the URL through the proxy."""
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self.url.set(host="127.0.0.1", port=self.port, query={})

    async def sever(self) -> None:
        """Refuse new connections and cut every open one."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for link in self.links:
            link.close()
        self.links.clear()
        self._flowing.set()
        await asyncio.sleep(0.05)

    def sever_when(self, pattern: bytes) -> None:
        """Sever everything when a client next sends ``pattern`` (not forwarded)."""
        self.triggered.clear()
        self._sever_on = pattern

    def stall_when(self, pattern: bytes) -> None:
        """Stop forwarding in both directions when a client next sends ``pattern`` (held,
        not lost), until :meth:`resume`; connections stay open."""
        self.triggered.clear()
        self._stall_on = pattern

    def resume(self) -> None:
        """Forward again what a stall held."""
        self._flowing.set()
