"""One client connection: the handshake, start-up replies and request dispatch."""

from __future__ import annotations

import asyncio
import logging
import struct
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from alc_data.ib.sim.gateway import Gateway, StreamLike
from alc_data.ib.sim.protocol import (
    MAX_SERVER_VERSION,
    MIN_SERVER_VERSION,
    In,
    Out,
    encode,
    negotiate,
    parse_version_range,
    request_id,
)
from alc_data.ib.sim.streaming import Subscription

__all__ = ["ClientSession", "Handler", "Handlers", "Stream"]

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

Stream = StreamLike


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
        self.version = MAX_SERVER_VERSION
        self.subscriptions: dict[int, Subscription] = {}
        self.streams: dict[int, Stream] = {}
        self._rate_at: float | None = None
        self._tokens = 0.0
        self._busy_checked = time.perf_counter()
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
        """Send an IB error message (with ``advancedOrderRejectJson`` from version 166)."""
        if self.version >= 166:
            self.send(Out.ERR_MSG, 2, req_id, code, message, "")
        else:
            self.send(Out.ERR_MSG, 2, req_id, code, message)

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
        self.streams.clear()
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
        try:
            low, high = parse_version_range(versions)
        except ValueError:
            _log.warning("refusing client: unreadable version range %r", versions)
            return False
        version = negotiate(low, high)
        if version is None:
            # TWS closes the socket on a client it shares no version with; the client sees the
            # connection end before any server version arrives.
            _log.warning(
                "refusing client versions %d..%d: the simulator speaks %d..%d",
                low,
                high,
                MIN_SERVER_VERSION,
                MAX_SERVER_VERSION,
            )
            return False
        self.version = version
        now = self.server.clock.now()
        self.send_raw(encode(version, now.strftime("%Y%m%d %H:%M:%S UTC")))
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
        _log.info("client %d connected at server version %d", client_id, version)
        return True

    def _over_rate(self) -> bool:
        """True when this message is above IB's limit of messages per second.

        A bucket of ``limit`` messages refilled at ``limit`` a second: a burst of ``limit``
        passes, as does ib_async's own pace (45 a second, sent in bursts a second apart). Time
        the event loop was blocked refills it too (what was sent meanwhile is read at once).
        """
        limit = self.server.config.max_messages_per_second
        now = self.server.monotonic()
        if self._rate_at is None:
            self._rate_at, self._tokens = now, float(limit)
        refilled = min(float(limit), self._tokens + (now - self._rate_at) * limit)
        self._tokens = max(self._tokens, refilled)  # a stall's credit may exceed the bucket
        self._rate_at = now
        if self.server.config.rate_stall_allowance:
            checked, self._busy_checked = self._busy_checked, time.perf_counter()
            self._tokens += limit * self.server.busy_since(checked)
        if self._tokens < 1.0:
            return True
        self._tokens -= 1.0
        return False

    def _dispatch(self, fields: list[str]) -> None:
        if not fields[0].isdigit():
            self.error(-1, 321, f"Error validating request: message id {fields[0]!r} is unknown")
            return
        msg_id = int(fields[0])
        if self.server.config.max_messages_per_second and self._over_rate():
            limit = self.server.config.max_messages_per_second
            self.error(
                request_id(fields),
                100,
                f"Max rate of messages per second has been exceeded:max={limit} rec={limit + 1}",
            )
            return
        entry = self.handlers.get(msg_id)
        if entry is None:
            self.error(
                request_id(fields),
                321,
                f"Error validating request: message id {msg_id} is not supported by the simulator",
            )
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
        started = time.perf_counter()
        try:
            handler(self, fields)
        except Exception:
            _log.exception("request %s failed", fields[:3])
            self.error(
                request_id(fields),
                321,
                "Error validating request: the simulator could not parse it",
            )
        finally:
            self.server.note_busy(time.perf_counter() - started)

    def now(self) -> datetime:
        """The simulated time."""
        return self.server.clock.now().astimezone(UTC)
