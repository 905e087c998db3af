"""Typed views of the parts of ib_async's low-level client that ib_async leaves unannotated.

Tests drive the wire directly (``ib.client.reqCurrentTime()``, a raw ``send``, a hook on the
decoder) to prove what the simulator answers. ib_async's ``Client`` and ``Decoder`` methods carry
no annotations, so mypy --strict refuses to call them; these Protocols state the signatures the
tests rely on (taken from ib_async.client), and the ``cast`` is the one place that trusts them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol, cast

from ib_async import IB, Contract, ScannerSubscription, SmartComponent, TagValue
from ib_async.client import Client


class RawClient(Protocol):
    """The unannotated request methods of ``ib_async.client.Client`` that tests send."""

    def send(self, *fields: object, makeEmpty: bool = True) -> None: ...
    def reqCurrentTime(self) -> None: ...
    def cancelMktData(self, reqId: int) -> None: ...
    def reqHistogramData(
        self, tickerId: int, contract: Contract, useRTH: bool, timePeriod: str
    ) -> None: ...
    def reqHistoricalData(
        self,
        reqId: int,
        contract: Contract,
        endDateTime: str,
        durationStr: str,
        barSizeSetting: str,
        whatToShow: str,
        useRTH: int,
        formatDate: int,
        keepUpToDate: bool,
        chartOptions: list[TagValue],
    ) -> None: ...
    def exerciseOptions(
        self,
        reqId: int,
        contract: Contract,
        exerciseAction: int,
        exerciseQuantity: int,
        account: str,
        override: int,
    ) -> None: ...
    def reqScannerSubscription(
        self,
        reqId: int,
        subscription: ScannerSubscription,
        scannerSubscriptionOptions: list[TagValue],
        scannerSubscriptionFilterOptions: list[TagValue],
    ) -> None: ...
    def reqNewsArticle(
        self, reqId: int, providerCode: str, articleId: str, newsArticleOptions: list[TagValue]
    ) -> None: ...
    def reqWshMetaData(self, reqId: int) -> None: ...
    def requestFA(self, faData: int) -> None: ...
    def cancelOrder(self, orderId: int, manualCancelOrderTime: str = "") -> None: ...
    def reqFamilyCodes(self) -> None: ...
    def reqSoftDollarTiers(self, reqId: int) -> None: ...
    def queryDisplayGroups(self, reqId: int) -> None: ...
    def subscribeToGroupEvents(self, reqId: int, groupId: int) -> None: ...
    def reqPositionsMulti(self, reqId: int, account: str, modelCode: str) -> None: ...
    def verifyRequest(self, apiName: str, apiVersion: str) -> None: ...
    def verifyAndAuthRequest(self, apiName: str, apiVersion: str, opaqueIsvKey: str) -> None: ...
    def reqPnLSingle(self, reqId: int, account: str, modelCode: str, conid: int) -> None: ...
    def reqNewsBulletins(self, allMsgs: bool) -> None: ...
    def setServerLogLevel(self, logLevel: int) -> None: ...
    def reqGlobalCancel(self) -> None: ...
    def cancelPnL(self, reqId: int) -> None: ...


class RawDecoder(Protocol):
    """``ib_async.decoder.Decoder``: ``interpret`` is an attribute here so a test can hook it."""

    interpret: Callable[[Sequence[str]], None]


class UntypedRequests(Protocol):
    """The unannotated ``IB`` request coroutines the tests await."""

    def reqSmartComponentsAsync(self, bboExchange: str) -> Awaitable[list[SmartComponent]]: ...
    def reqUserInfoAsync(self) -> Awaitable[object]: ...


def raw_client(ib: IB) -> RawClient:
    """``ib.client`` with its request methods typed."""
    client: Client = ib.client
    return cast(RawClient, client)


def untyped_requests(ib: IB) -> UntypedRequests:
    """``ib`` with its unannotated request coroutines typed."""
    return cast(UntypedRequests, ib)


def record_wire(ib: IB) -> list[list[str]]:
    """Every message ``ib`` reads from now on, as its fields, before ib_async decodes it."""
    decoder = cast(RawDecoder, ib.client.decoder)
    wire: list[list[str]] = []
    interpret = decoder.interpret

    def recording(fields: Sequence[str]) -> None:
        wire.append(list(fields))
        interpret(fields)

    decoder.interpret = recording
    return wire
