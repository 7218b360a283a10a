"""A process's label index over a skill taxonomy, kept in step with the database: rebuilt
(off the event loop) when the taxonomy's revision moves. Each service says how to load the
labels and how to read the revision from its own tables."""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.normalize import LabelIndex, SkillLabels, build_index


@dataclass
class LabelCache:
    load: Callable[[AsyncSession], Awaitable[list[SkillLabels]]]
    revision: Callable[[AsyncSession], Awaitable[object]]
    seen: object = None
    index: LabelIndex | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def current(self, session: AsyncSession) -> LabelIndex:
        revision = await self.revision(session)
        if self.index is not None and revision == self.seen:
            return self.index
        async with self.lock:
            if self.index is None or revision != self.seen:
                labels = await self.load(session)
                self.index = await asyncio.to_thread(build_index, labels)
                self.seen = revision
        return self.index
