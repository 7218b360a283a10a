"""Reading a public data release (e.g. the O*NET text release) handed over as a folder, the
folder inside an unpacked download, or a zip of either. Pure file reading, no parsing."""

import zipfile
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path

ReleaseFiles = dict[str, Callable[[], bytes]]


def release_files(path: Path, marker: str, stack: ExitStack, what: str) -> tuple[ReleaseFiles, str]:
    """The release's files by name (read lazily), found by a `marker` file every release has,
    and the name of the folder (or zip) that holds them. `stack` keeps a zip open."""
    if path.is_dir():
        # An unpacked download is one folder deeper (db_29_2_text/…) than people expect.
        for folder in [path, *sorted(p for p in path.iterdir() if p.is_dir())]:
            if (folder / marker).is_file():
                files = {p.name: p.read_bytes for p in folder.iterdir() if p.is_file()}
                return files, folder.name
        raise ValueError(f"{path} is not {what}: no {marker!r} in it")
    if not path.is_file():
        raise ValueError(f"{path} does not exist")
    try:
        archive = stack.enter_context(zipfile.ZipFile(path))
    except zipfile.BadZipFile:
        raise ValueError(f"{path} is neither a folder nor a zip of {what}") from None
    prefixes = [
        name[: -len(marker)]
        for name in archive.namelist()
        if name == marker or name.endswith("/" + marker)
    ]
    if not prefixes:
        raise ValueError(f"{path} is not {what}: no {marker!r} in it")
    prefix = min(prefixes, key=len)
    zipped: ReleaseFiles = {
        name[len(prefix) :]: partial(archive.read, name)
        for name in archive.namelist()
        if name.startswith(prefix) and name != prefix and "/" not in name[len(prefix) :]
    }
    return zipped, prefix.rstrip("/").rsplit("/", 1)[-1] or path.stem


def read_text(files: ReleaseFiles, name: str, problems: dict[str, list[str]]) -> str:
    """A release file as text: UTF-8 (with or without BOM), else Windows-1252, reported."""
    raw = files[name]()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Windows-1252 decodes any byte, so a file saved by a spreadsheet stays readable.
        problems["files that are not UTF-8 (read as Windows-1252)"].append(name)
        return raw.decode("cp1252", errors="replace")
