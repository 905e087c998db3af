"""One client connection: the handshake, start-up replies and request dispatch."""

from __future__ import annotations

import asyncio
import logging
import struct
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from alc_data.ib.sim.gateway import Gateway
from alc_data.ib.sim.protocol import SERVER_VERSION, In, Out, encode
from alc_data.ib.sim.streaming import Subscription

__all__ = ["ClientSession", "Handler", "Handlers"]

_log = logging.getLogger("alc_data.ib.sim")
_MAX_FRAME = 16 * 1024 * 1024
_MAX_BUFFER = 4 * 1024 * 1024  # beyond this a client is too slow: skip its updates
_FARM_NOTICES = (
    (2104, "Market data farm connection is OK:usfarm"),
    (2106, "HMDS data farm connection is OK:ushmds"),
    (2158, "Sec-def data farm connection is OK:secdefnj"),
)
Handler = Callable[["ClientSession", list[str]], None]
#: message id -> (request kind for fault stalls, handler)
Handlers = Mapping[int, tuple[str, Handler]]


class ClientSession:
    """The server side of one ib_async connection.

    Args:
        server: the gateway's shared state.
        reader, writer: the connection.
        handlers: the request handlers (:data:`alc_data.ib.sim.requests.HANDLERS`).
    """

    def __init__(
        self,
        server: Gateway,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        handlers: Handlers,
    ) -> None:
        self.server = server
        self.handlers = handlers
        self.reader = reader
        self.writer = writer
        self.client_id: int | None = None
        self.ready = False
        self.market_data_type = 1
        self.subscriptions: dict[int, Subscription] = {}
        self._closed = False

    # --- transport --------------------------------------------------------------------

    def send(self, *fields: object) -> None:
        """Send one message."""
        self.send_raw(encode(*fields))

    def send_raw(self, data: bytes) -> None:
        """Send already-encoded frames."""
        if not self._closed and not self.writer.is_closing():
            self.writer.write(data)

    def error(self, req_id: int, code: int, message: str) -> None:
        """Send an IB error message."""
        self.send(Out.ERR_MSG, 2, req_id, code, message, "")

    def is_congested(self) -> bool:
        """True when the client reads too slowly (updates are skipped, as IB conflates)."""
        transport = self.writer.transport
        return transport is None or transport.get_write_buffer_size() > _MAX_BUFFER

    def abort(self) -> None:
        """Drop the connection without a goodbye (a network failure)."""
        self._closed = True
        transport = self.writer.transport
        if transport is not None:
            transport.abort()

    def close(self) -> None:
        """Close the connection normally."""
        self._closed = True
        self.subscriptions.clear()
        if not self.writer.is_closing():
            self.writer.close()

    async def _read_frame(self) -> list[str]:
        header = await self.reader.readexactly(4)
        (size,) = struct.unpack(">I", header)
        if size > _MAX_FRAME:
            raise ConnectionError(f"frame of {size} bytes")
        body = await self.reader.readexactly(size)
        fields = body.decode(errors="replace").split("\0")
        if fields and fields[-1] == "":
            fields.pop()
        return fields

    # --- life cycle -----------------------------------------------------------------------

    async def run(self) -> None:
        """Serve the connection until the client leaves."""
        try:
            if not await self._handshake():
                return
            while True:
                fields = await self._read_frame()
                if fields:
                    self._dispatch(fields)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self.client_id is not None:
                _log.info("client %s disconnected", self.client_id)

    async def _handshake(self) -> bool:
        prefix = await self.reader.readexactly(4)
        if prefix != b"API\0":
            _log.warning("not a TWS API client (prefix %r)", prefix)
            return False
        (versions,) = await self._read_frame()
        low, _, high = versions.split(" ")[0].lstrip("v").partition("..")
        # The simulator speaks exactly SERVER_VERSION's message layouts, so it can only serve
        # clients whose range includes it (ib_async 2.x offers 157..178). A real gateway would
        # answer min(its version, the client's maximum); refusing is the honest equivalent.
        if not int(low) <= SERVER_VERSION <= int(high or low):
            _log.warning(
                "refusing client versions %s: the simulator speaks server version %d only",
                versions,
                SERVER_VERSION,
            )
            return False
        now = self.server.clock.now()
        self.send_raw(encode(SERVER_VERSION, now.strftime("%Y%m%d %H:%M:%S UTC")))
        fields = await self._read_frame()
        if int(fields[0]) != In.START_API:
            return False
        client_id = int(fields[2])
        if self.server.client_id_in_use(client_id):
            self.error(
                -1,
                326,
                "Unable to connect as the client id is already in use. "
                "Retry with a unique client id.",
            )
            await self.writer.drain()
            return False
        self.client_id = client_id
        self.ready = True
        account = self.server.config.account
        self.send(Out.MANAGED_ACCTS, 1, account)
        self.send(Out.NEXT_VALID_ID, 1, self.server.next_order_id())
        for code, message in _FARM_NOTICES:
            self.error(-1, code, message)
        _log.info("client %d connected", client_id)
        return True

    def _dispatch(self, fields: list[str]) -> None:
        msg_id = int(fields[0])
        entry = self.handlers.get(msg_id)
        if entry is None:
            _log.debug("ignoring unsupported message %d", msg_id)
            return
        kind, handler = entry
        stalled, delay = self.server.faults.stall_for(kind)
        if stalled and kind != "control":
            if delay is not None:
                asyncio.get_running_loop().call_later(delay, self._handle, handler, fields)
            return
        self._handle(handler, fields)

    def _handle(self, handler: Handler, fields: list[str]) -> None:
        if self._closed:
            return
        try:
            handler(self, fields)
        except Exception:
            _log.exception("request %s failed", fields[:3])
            req_id = int(fields[2]) if len(fields) > 2 and fields[2].lstrip("-").isdigit() else -1
            self.error(req_id, 321, "Error validating request: the simulator could not parse it")

    def now(self) -> datetime:
        """The simulated time."""
        return self.server.clock.now().astimezone(UTC)
