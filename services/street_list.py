"""The street office's ticket list (街道工单): the tickets of several communities in one
order, each community's rows read from its own database.

The merged order is the list's sort keys (ending in the community's own ticket ``id``)
and then the community's place in the deployment, so it is a total order and a page
can be continued by a keyset cursor carrying the last row's keys and community key.
A page asks every chosen community, concurrently, for its first ``size + 1`` rows after
the cursor (one index seek each: ``storage.console_repo``) and its count, and merges
them; an export walks each community in chunks and merges them as a stream, so
neither ever holds more than a chunk per community.
"""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from community.model import CommunityConfig
from storage import Database
from storage.connection import Row
from storage.console_repo import (
    CursorError,
    Scope,
    Sort,
    TicketFilter,
    decode_cursor,
    encode_cursor,
)
from storage.tickets_repo import row_to_ticket
from tickets.model import Ticket

#: Communities read at the same time (a street of 200 does not open 200 reads at once).
READS_AT_ONCE = 16
EXPORT_CHUNK = 2000

T = TypeVar("T")


@dataclass(frozen=True)
class Source:
    """One chosen community: where its tickets are and the filter in its own terms."""

    key: str
    name: str
    position: int  # its place in the deployment file (the merge's tie-break)
    db: Database
    config: CommunityConfig
    filter: TicketFilter


@dataclass(frozen=True, slots=True)
class StreetTicket:
    source: Source
    ticket: Ticket


@dataclass
class StreetPage:
    rows: list[StreetTicket] = field(default_factory=list)
    next_cursor: str | None = None  # None: this is the last page
    counts: list[tuple[Source, int]] = field(default_factory=list)  # sources' order

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


class _Order:
    """A row's place in the merged order: keys in the sort's direction, then the
    community's position ascending (for the export's heap, which cannot reverse)."""

    __slots__ = ("descending", "keys", "position")

    def __init__(self, keys: tuple[Any, ...], position: int, descending: bool) -> None:
        self.keys = keys
        self.position = position
        self.descending = descending

    def __lt__(self, other: _Order) -> bool:
        if self.keys != other.keys:
            return self.keys > other.keys if self.descending else self.keys < other.keys
        return self.position < other.position


def _keys(row: Row, sort: Sort) -> tuple[Any, ...]:
    return tuple(row[f"k{i}"] for i in range(len(sort.keys)))


def encode_street_cursor(keys: Sequence[Any], community: str) -> str:
    return encode_cursor([*keys, community])


def decode_street_cursor(cursor: str, sort: Sort, positions: dict[str, int]
                         ) -> tuple[list[Any], int]:
    """The last row's keys and its community's position; CursorError unless the cursor
    fits ``sort`` and names a community of the deployment."""
    values = decode_cursor(cursor, sort, extra=1)
    position = positions.get(values[-1])
    if position is None:
        raise CursorError("cursor names no community of this deployment")
    return values[:-1], position


async def _bounded(jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(READS_AT_ONCE)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()
    return list(await asyncio.gather(*(run(j) for j in jobs)))


async def street_page(sources: Sequence[Source], sort: Sort, cursor: str | None,
                      positions: dict[str, int], size: int = 50) -> StreetPage:
    """One page of the merged list after ``cursor``, and each source's count (all pages).
    Raises CursorError for a cursor this sort and deployment did not produce."""
    after = decode_street_cursor(cursor, sort, positions) if cursor else None
    everything = Scope.everyone()

    def reader(source: Source) -> Callable[[], Awaitable[tuple[list[Row], int]]]:
        async def read() -> tuple[list[Row], int]:
            keys = None
            inclusive = False
            if after is not None:
                # Equal keys in a later community come after the cursor's row.
                keys, inclusive = after[0], source.position > after[1]
            async with source.db.read() as r:
                rows, _ = await r.console.chunk(source.filter, everything, sort, keys,
                                                size + 1, inclusive)
                count = await r.console.count(source.filter, everything)
            return rows, count
        return read

    results = await _bounded([reader(s) for s in sources])
    candidates = [(_keys(row, sort), s.position, s, row)
                  for s, (rows, _) in zip(sources, results, strict=True) for row in rows]
    # The merged order with native tuple comparisons; only the page's rows are ordered.
    if sort.descending:  # keys descending, then the community's position ascending
        merged = heapq.nlargest(size + 1, candidates, key=lambda c: (c[0], -c[1]))
    else:
        merged = heapq.nsmallest(size + 1, candidates, key=lambda c: (c[0], c[1]))
    page = StreetPage(counts=[(s, n) for s, (_, n) in zip(sources, results, strict=True)])
    page.rows = [StreetTicket(s, row_to_ticket(row)) for _, _, s, row in merged[:size]]
    if len(merged) > size:
        keys, _, last_source, _ = merged[size - 1]
        page.next_cursor = encode_street_cursor(keys, last_source.key)
    return page


class _Stream:
    """One community's rows in chunks, for the export's merge."""

    def __init__(self, source: Source, sort: Sort, chunk: int) -> None:
        self.source = source
        self.sort = sort
        self.chunk = chunk
        self.rows: list[Row] = []
        self.at = 0
        self.after: list[Any] | None = None
        self.more = True

    async def fill(self) -> None:
        async with self.source.db.read() as r:
            self.rows, self.after = await r.console.chunk(
                self.source.filter, Scope.everyone(), self.sort, self.after, self.chunk)
        self.at = 0
        self.more = self.after is not None

    async def head(self) -> Row | None:
        if self.at >= len(self.rows):
            if not self.more:
                return None
            await self.fill()
            if not self.rows:
                return None
        return self.rows[self.at]


async def street_rows(sources: Sequence[Source], sort: Sort, chunk: int = EXPORT_CHUNK
                      ) -> AsyncIterator[list[tuple[Source, Row]]]:
    """Every row of every source in the merged order, in batches of up to ``chunk``
    (map with :func:`row_to_ticket`). Each community is read a chunk at a time (one
    short read snapshot each); the first chunks are read concurrently."""
    streams = [_Stream(s, sort, chunk) for s in sources]
    await _bounded([s.fill for s in streams])
    heap: list[tuple[_Order, int]] = []
    for i, stream in enumerate(streams):
        row = await stream.head()
        if row is not None:
            heap.append((_Order(_keys(row, sort), stream.source.position, sort.descending), i))
    heapq.heapify(heap)
    batch: list[tuple[Source, Row]] = []
    while heap:
        _, i = heapq.heappop(heap)
        stream = streams[i]
        batch.append((stream.source, stream.rows[stream.at]))
        stream.at += 1
        row = await stream.head()
        if row is not None:
            heapq.heappush(heap, (_Order(_keys(row, sort), stream.source.position,
                                         sort.descending), i))
        if len(batch) >= chunk:
            yield batch
            batch = []
    if batch:
        yield batch
