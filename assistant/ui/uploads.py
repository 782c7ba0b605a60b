"""Uploads into the corpus folder: safe names, size and readability checked, atomic writes."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

from assistant.readers import SUPPORTED, Unreadable, extract

_NAME_MAX = 120  # characters of a saved file's stem

class UploadRefused(ValueError):
    """An upload that is not saved; the message is the reason shown in the result table."""


def safe_filename(name: str) -> str:
    """The name an uploaded file is saved under: its basename with only plain characters.

    Path parts (`../`, `/abs/`, `C:\\`) are dropped, odd characters become `_`, leading dots go
    (ingest skips hidden files). Raises UploadRefused when nothing usable is left or the type is
    not one ingest reads.
    """
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name or ""))[-1]
    base = re.sub(r"[^\w.\-]+", "_", base)  # spaces, controls, quotes, colons, wildcards
    base = re.sub(r"_{2,}", "_", re.sub(r"\.{2,}", ".", base))
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    suffix = f".{ext.lower()}" if ext else ""
    if suffix not in SUPPORTED:
        raise UploadRefused(f"unsupported file type '{suffix or '(none)'}' (supported: "
                            f"{', '.join(SUPPORTED)})")
    stem = stem.strip("._-")[:_NAME_MAX].rstrip("._-")  # no hidden or option-like names
    if not stem:
        raise UploadRefused(f"no usable file name in {name!r}")
    return stem + suffix


def safe_target(corpus_dir: Path, name: str) -> Path:
    """corpus_dir / safe_filename(name), refused unless it sits directly inside corpus_dir.

    The last component is not resolved: a symlink there is the caller's to refuse, not follow.
    """
    root = Path(corpus_dir).resolve()
    safe = safe_filename(name)
    target = root / safe
    if safe in (".", "..") or os.sep in safe or target.parent != root:
        raise UploadRefused(f"{name!r} would be saved outside the corpus folder")
    return target


def save_upload(source: str | Path, name: str, corpus_dir: Path, max_mb: float) -> tuple[Path, str]:
    """Check and copy one uploaded file into corpus_dir; returns (saved path, note).

    Refuses (UploadRefused) unsafe names, unsupported types, files over `max_mb` and files that
    ingest could not read, so that nothing unreadable is left in the corpus folder.
    """
    target = safe_target(corpus_dir, name)
    size = Path(source).stat().st_size
    if size > max_mb * 1024 * 1024:
        raise UploadRefused(f"file is {size / 2**20:.1f} MB, over the {max_mb:g} MB limit "
                            "(setting max_file_mb)")
    data = Path(source).read_bytes()
    try:
        extract(target, data)
    except Unreadable as exc:
        raise UploadRefused(str(exc)) from None
    note = ""
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise UploadRefused(f"{target.name} exists in the corpus folder and is not a plain file")
    if target.exists():
        note = "replaced the file of the same name" if target.read_bytes() != data else ""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".upload-", dir=target.parent)  # hidden: ingest skips it
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)  # mkstemp's 0600 would hide the document from other readers
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target, note

