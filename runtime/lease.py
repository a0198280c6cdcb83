"""Acting for a token only while holding its lease (see README "Several processes").

:class:`LeaseKeeper` runs beside a :class:`runtime.app.GridBot`: a standby process retries
the lease every ``retry`` seconds and activates the bot when it gets it; the holder checks
the lease every ``check`` seconds and deactivates the bot the moment it is lost, then
stands by again. A failed activation gives the lease back, so another process may try.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from storage.leases import Lease

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, lease: Lease, *, activate: Callable[[], Awaitable[None]],
                 deactivate: Callable[[], Awaitable[None]], retry: float = 3.0,
                 check: float = 2.0) -> None:
        self.lease = lease
        self._activate = activate
        self._deactivate = deactivate
        self.retry = retry
        self.check = check
        self.active = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """One attempt now (errors of that first activation reach the caller: a rejected
        token is the operator's to fix), then keep watching in the background."""
        if await self._try_lease():
            try:
                await self._activate()
            except BaseException:
                await self.lease.release()
                raise
            self.active = True
        else:
            log.info("standby: lease %s is held by another process; retrying every %.0f s",
                     self.lease.key, self.retry)
        self._task = asyncio.get_running_loop().create_task(
            self._watch(), name=f"lease-{self.lease.key}")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _try_lease(self) -> bool:
        try:
            return await self.lease.try_acquire()
        except Exception as error:  # database unreachable: stay standby, try again
            log.warning("lease %s: cannot try (%s); retrying", self.lease.key, error)
            return False

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.check if self.active else self.retry)
            if self.active:
                if await self.lease.check():
                    continue
                self.active = False
                try:  # stop acting first, then let the next holder in
                    await self._deactivate()
                except Exception:
                    log.exception("lease %s lost; stopping failed", self.lease.key)
                await self.lease.release()
                continue
            if not await self._try_lease():
                continue
            log.info("lease %s taken: becoming active", self.lease.key)
            try:
                await self._activate()
            except Exception:
                log.exception("lease %s: activation failed; lease given up", self.lease.key)
                with contextlib.suppress(Exception):
                    await self._deactivate()
                await self.lease.release()
                continue
            self.active = True
