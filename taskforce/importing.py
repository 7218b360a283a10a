"""`taskforce import`: send a taxonomy release to the profiles API and follow the import job
with a progress bar. A client of the public API, so it works against any deployment."""

import tempfile
import time
import zipfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


class ImportFailed(Exception):
    """One line for the operator."""


def problem_line(response: httpx.Response) -> str:
    try:
        body = response.json()
        return f"{response.status_code} {body.get('title', '')}: {body.get('detail', '')}"
    except ValueError:
        return f"{response.status_code} {response.reason_phrase}"


def zip_directory(folder: Path, into: Path) -> Path:
    """An O*NET text release folder as one zip, the shape the API takes (and O*NET ships)."""
    archive = into / f"{folder.name or 'release'}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(folder.glob("*.txt")):
            out.write(path, path.name)
    return archive


def upload_release(
    url: str,
    token: str,
    source: str,
    paths: list[Path],
    console: Console,
    poll_s: float = 0.5,
    endpoint: str = "/v1/skill-imports",
    what: str | None = None,
) -> dict[str, Any]:
    """Start the import at `endpoint`, show its progress until it ends, and return the
    finished job."""
    headers = {"Authorization": f"Bearer {token}"}
    with ExitStack() as stack, httpx.Client(base_url=url, headers=headers, timeout=300) as http:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        files = []
        for path in paths:
            upload = zip_directory(path, scratch) if path.is_dir() else path
            if not upload.is_file():
                raise ImportFailed(f"{path} is neither a file nor a folder")
            handle = stack.enter_context(upload.open("rb"))
            files.append(("files", (upload.name, handle, "application/zip")))
        with console.status(f"Uploading {len(files)} file(s) to {url}…"):
            started = http.post(endpoint, data={"source": source}, files=files)
        if started.status_code != 202:
            raise ImportFailed(f"the import was refused: {problem_line(started)}")
        job = started.json()
        location = started.headers["location"]
        columns = (
            TextColumn("Importing {task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as progress:
            bar = progress.add_task(what or source.upper(), total=None)
            while job["status"] == "running":
                time.sleep(poll_s)
                polled = http.get(location)
                if polled.status_code != 200:
                    raise ImportFailed(f"cannot follow the import: {problem_line(polled)}")
                job = polled.json()
                # Job imports report no counts until done: the bar then only shows time.
                progress.update(
                    bar, total=job.get("total") or None, completed=job.get("processed", 0)
                )
        if job["status"] != "succeeded":
            raise ImportFailed(f"the import failed: {job.get('error')}")
        return job


def job_summary(job: dict[str, Any]) -> str:
    """The catalog's O*NET job import: occupations and task statements for deconstruction."""
    return (
        f"O*NET {job['source_version']} jobs: {job['occupations']} occupations and "
        f"{job['tasks']} task statements ready to deconstruct."
    )


def summary(job: dict[str, Any]) -> str:
    lines = [
        f"{job['source'].upper()} {job['source_version']}: {job['total']} skills read, "
        f"{job['created']} created, {job['updated']} updated, {job['unchanged']} unchanged.",
    ]
    if job["warnings"]:
        lines.append(f"{len(job['warnings'])} warning(s):")
        lines += [f"  - {w}" for w in job["warnings"][:10]]
    if job["attribution"]:
        lines.append(job["attribution"])
    return "\n".join(lines)
