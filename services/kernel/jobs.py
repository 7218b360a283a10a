"""Background jobs of a service process (imports): uploads saved to a scratch folder that the
job removes when done, and, at start-up, jobs a restart interrupted marked as failed."""

import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi import UploadFile

from services.kernel.db import Database


async def save_uploads(files: list[UploadFile], prefix: str) -> tuple[Path, list[Path]]:
    """Each upload streamed to its own file in a new scratch folder (the size limit is the
    kernel's BodyLimit)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    paths = []
    for number, upload in enumerate(files):
        path = folder / f"{number}-{Path(upload.filename or 'upload').name}"
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                out.write(chunk)
        paths.append(path)
    return folder, paths


def remove_tree(path: Path) -> Callable[[], None]:
    return lambda: shutil.rmtree(path, ignore_errors=True)


async def fail_interrupted(db: Database, job_table: Any, reason: str) -> int:
    """A job `running` when its process died will never finish: say so. `job_table` is a
    mapped class with `status`, `finished_at` and `error`."""
    async with db.sessions() as session:
        result = await session.execute(
            sa.update(job_table)
            .where(job_table.status == "running")
            .values(status="failed", finished_at=datetime.now(UTC), error=reason)
        )
        await session.commit()
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
