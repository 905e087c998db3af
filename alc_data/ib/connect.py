"""Connecting the ib_async client: the one place the command line and the demo build it."""

from __future__ import annotations

import argparse

from ib_async import IB

from alc_data.errors import BrokerUnavailableError


async def connect_ib(
    host: str, port: int, client_id: int, *, readonly: bool = False, wait: float = 10.0
) -> IB:
    """A connected ``IB`` client (TWS, IB Gateway or the simulator).

    Raises:
        BrokerUnavailableError: nothing answers at ``host:port``, or the API handshake fails
            (API not enabled, client id in use, version refused).
    """
    ib = IB()
    try:
        await ib.connectAsync(host, port, clientId=client_id, readonly=readonly, timeout=wait)
    except (OSError, TimeoutError, ConnectionError) as exc:
        ib.disconnect()
        raise BrokerUnavailableError(
            f"cannot connect to IB at {host}:{port} as client {client_id}: "
            f"{type(exc).__name__}: {exc or 'timed out'} (is TWS/IB Gateway running with the "
            "API enabled, or `alc-data sim serve`?)"
        ) from exc
    return ib


def ib_address(text: str) -> tuple[str, int]:
    """``HOST:PORT`` as given to ``--ib``; an argparse type (clear usage error otherwise)."""
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)
