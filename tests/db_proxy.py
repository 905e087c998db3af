"""A TCP proxy in front of the test database that a test severs and restores.

Tests simulate a database outage with it (never by stopping the shared server).
"""

from __future__ import annotations

import asyncio
import contextlib
import glob

from sqlalchemy.engine import URL


class DbProxy:
    """A TCP proxy in front of the test database that a test severs and restores."""

    def __init__(self, url: URL) -> None:
        self.url = url
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.port = 0

    async def _upstream(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        socket_dir = self.url.query.get("host")
        if self.url.host is None and isinstance(socket_dir, str):
            path = glob.glob(f"{socket_dir}/.s.PGSQL.*")[0]
            return await asyncio.open_unix_connection(path)
        return await asyncio.open_connection(self.url.host or "127.0.0.1", self.url.port or 5432)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await self._upstream()
        self.links |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

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
        await asyncio.sleep(0.05)
