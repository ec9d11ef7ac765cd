"""Shared I/O helpers: one JSON-lines record format and one atomic writer,
used by every command that writes a file (`convert`, `predict`, `annotate`'s
shards, plan and manifest)."""
import json
import logging
import os
import signal
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Optional, Union

PARTIAL = ".partial"

# Characters that json.dumps(ensure_ascii=False) leaves raw but that
# str.splitlines() and many JSON-lines readers treat as line breaks.
_LINE_BREAKS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def json_line(obj) -> str:
    """One JSON-lines record: readable Chinese, but no raw line separators
    (they can only occur inside strings, where the escape is equivalent),
    and strict JSON: NaN and Infinity raise ValueError rather than being
    written where JSON.parse (Label Studio) and strict readers fail."""
    return json.dumps(obj, ensure_ascii=False, allow_nan=False).translate(_LINE_BREAKS) + "\n"


@contextmanager
def atomic_open(
    path: Union[str, Path], mode: str = "w", *, tmp_path: Optional[Path] = None, fsync: bool = True
) -> Iterator[IO]:
    """Write `path` atomically: the caller writes to a temporary file in the
    same directory, which is flushed, fsynced and renamed to `path` when the
    block ends; any error (Ctrl-C included) removes it, so a full disk or a
    kill never leaves a truncated file in place of the previous one. SIGTERM
    removes it too (`sigterm_raises`); only SIGKILL leaves it behind.

    mode (str): "w" (UTF-8 text) or "wb".
    tmp_path (Optional[Path]): the temporary file's name, when the caller
        needs a known one; by default a new `.NAME.*.partial` beside `path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoding = None if "b" in mode else "utf-8"
    with sigterm_raises():
        if tmp_path is None:
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=PARTIAL)
            # mkstemp makes the file 0600; the output gets what open() would give it
            os.fchmod(fd, 0o666 & ~current_umask())
            handle = os.fdopen(fd, mode, encoding=encoding)
        else:
            tmp = tmp_path
            handle = open(tmp, mode, encoding=encoding)
        try:
            with handle:
                yield handle
                handle.flush()
                if fsync:
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@contextmanager
def sigterm_raises() -> Iterator[None]:
    """While the block runs, SIGTERM (`kill`, `timeout`, a job scheduler)
    raises SystemExit(143) as Ctrl-C raises KeyboardInterrupt, so cleanups
    run (`atomic_open` removes its temporary file) instead of the process
    dying on the spot. Only the default action is replaced: a handler the
    program set itself (Ray's workers) or SIG_IGN is left as it is, and only
    the main thread may set handlers."""
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return

    def handler(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def current_umask() -> int:
    """The process's umask, read without changing it where Linux allows
    (os.umask can only read it by setting it, a race with other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextmanager
def quiet_root_logger(level: int = logging.WARNING) -> Iterator[None]:
    """Mute log records up to `level` inside the block (libraries that log
    through the root logger, such as onnxruntime's quantiser), then restore."""
    previous = logging.root.manager.disable
    logging.disable(level)
    try:
        yield
    finally:
        logging.disable(previous)
