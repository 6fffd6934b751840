"""Writing output files (audio, voice embeddings, batch reports) without ever losing or corrupting one.

One writer for every output, by what the destination is:
- a regular file, or a path that does not exist yet: written to a temporary file next to it and renamed
  over it, so an existing file is replaced whole or not at all, and a failure leaves nothing behind;
- a symlink: resolved, and its final target replaced the same way (the link stays a link);
- a FIFO, character device or socket (`/dev/null`, `/dev/stdout`, a named pipe): written in place, as a
  stream; renaming over it would replace the node itself (its reader would get nothing, and as root
  `-o /dev/null` would replace the system's /dev/null).
`progressive` is the same writer piece by piece (streamed audio); `write_file` is it with one piece.
New files get the umask's permissions, as a plain `open()` gives them; a replaced file keeps its own
permission bits (a 0600 file stays 0600, through a symlink too), so replacing never widens access. OS
failures become OutputError naming the destination ("out.wav: disk full"); destinations are checked before
any work starts, and `check_not_an_input` refuses an output that is one of the command's inputs (same
path, symlink or hard link). A reader that closes stdout or a pipe early is one outcome everywhere:
"output closed early (broken pipe)", exit 5, and stdout is pointed at /dev/null so Python's own flush at
exit stays quiet (`discard_stdout`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import sys
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from openvoice_tt.errors import OutputError

STDOUT = "-"


def write_file(destination: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `destination` ("-" for stdout) as the module docstring describes."""
    with progressive(destination) as out:
        out.write(data)


class Progressive:
    """An output being written piece by piece (see `progressive`)."""

    def __init__(self, name: str, fd: int | None, seekable: bool) -> None:
        self.name = name
        self.fd = fd  # None: stdout, written through sys.stdout.buffer
        self.seekable = seekable  # only a temporary file: what a reader already has cannot be changed

    def write(self, data: bytes) -> None:
        try:
            if self.fd is None:
                sys.stdout.buffer.write(data)
                sys.stdout.buffer.flush()
                return
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
        except OSError as e:
            if self.fd is None and e.errno == errno.EPIPE:
                discard_stdout()
            raise output_error(self.name, e) from None

    def patch(self, offset: int, data: bytes) -> None:
        """Overwrite bytes already written (e.g. a header's sizes); only where `seekable`."""
        if not self.seekable or self.fd is None:
            raise ValueError(f"{self.name}: cannot rewrite what a reader may already have")
        try:
            os.pwrite(self.fd, data, offset)
        except OSError as e:
            raise output_error(self.name, e) from None


@contextlib.contextmanager
def progressive(destination: str | os.PathLike[str]) -> Iterator[Progressive]:
    """Write `destination` piece by piece: stdout, a FIFO or a device as the pieces come (in place); a
    regular file (or a symlink's target) into a temporary file next to it, renamed over it when the block
    ends without an error, so it is replaced whole or not at all."""
    name = os.fspath(destination)
    if name == STDOUT:
        _check_stdout()
        try:
            sys.stdout.flush()  # text already printed must come out before the binary
        except OSError as e:
            if e.errno == errno.EPIPE:
                discard_stdout()
            raise output_error("stdout", e) from None
        yield Progressive("stdout", None, False)
        return
    target, mode = _writable_target(name)
    if mode is not None and not stat.S_ISREG(mode):
        try:
            fd = os.open(target, os.O_WRONLY)  # no O_CREAT, no O_TRUNC: the node stays what it is
        except OSError as e:
            raise output_error(name, e) from None
        try:
            yield Progressive(name, fd, False)
        finally:
            os.close(fd)
        return
    temp = _temporary(target)
    try:  # os.open with 0o666 lets the umask decide the mode, as for a plain open(); mkstemp would force 0o600
        fd = os.open(temp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)  # RDWR: libsndfile may read back
    except OSError as e:
        raise output_error(name, e) from None
    replaced = False
    try:
        if mode is not None:  # replacing a file: keep its permission bits, never widen them
            _keep_mode(fd, name, stat.S_IMODE(mode))
        yield Progressive(name, fd, True)
        try:
            os.fsync(fd)
            os.close(fd)
            fd = -1
            os.replace(temp, target)
        except OSError as e:
            raise output_error(name, e) from None
        replaced = True
    finally:
        if fd >= 0:
            os.close(fd)
        if not replaced:
            with contextlib.suppress(OSError):
                os.unlink(temp)


NAME_MAX = 255
"""Longest file name in bytes on common file systems (ext4, XFS, APFS, NTFS)."""


def _temporary(target: Path) -> Path:
    """A fresh name next to `target` for its temporary file, `.<name>.<random>.tmp`, with the name cut
    short where the whole would pass `NAME_MAX`: any name the file system takes can be written."""
    suffix = f".{uuid.uuid4().hex[:12]}.tmp"
    name = target.name
    while name and len(os.fsencode(f".{name}{suffix}")) > NAME_MAX:
        name = name[:-1]
    return target.with_name(f".{name}{suffix}")


def _keep_mode(fd: int, name: str, mode: int) -> None:
    try:
        os.fchmod(fd, mode)
    except OSError as e:
        raise output_error(name, e) from None


def _target(path: Path, name: str) -> Path:
    """The file a write to `path` must change: a symlink's final target (which may not exist yet)."""
    try:
        return Path(os.path.realpath(path)) if os.path.islink(path) else path
    except OSError as e:
        raise output_error(name, e) from None


def _mode(target: Path, name: str) -> int | None:
    try:
        return os.stat(target).st_mode
    except (FileNotFoundError, NotADirectoryError):  # not there (yet): the folder check says why
        return None
    except OSError as e:  # a symlink loop, a name too long, a path through a file, ...
        raise output_error(name, e) from None


def _check_stdout() -> None:
    """stdout must be open: a process started with fd 1 closed has `sys.stdout` None."""
    if sys.stdout is None:
        raise OutputError("stdout: not open")


def discard_stdout() -> None:
    """After a reader closed stdout early: point fd 1 at /dev/null, so what is still buffered (and
    Python's flush at exit) goes nowhere instead of raising BrokenPipeError again (as the Python docs
    advise for SIGPIPE)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def is_special(destination: str | os.PathLike[str]) -> bool:
    """Whether `destination` is stdout ("-") or an existing FIFO, device or socket (written in place)."""
    name = os.fspath(destination)
    if name == STDOUT:
        return True
    try:
        mode = os.stat(name).st_mode
    except (OSError, ValueError):
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def check_not_an_input(destination: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None]) -> None:
    """Refuse (OutputError) an output that is the same file as one of the command's inputs: the same
    path once resolved, or the same file through a symlink or a hard link (same device and inode).
    Writing it would destroy the input, so this is checked before any model loads."""
    name = os.fspath(destination)
    if name == STDOUT:
        return
    try:
        out_path = os.path.realpath(name)
    except (OSError, ValueError):
        return  # the output checks say what is wrong with the name
    try:
        out_stat: os.stat_result | None = os.stat(name)
    except (OSError, ValueError):
        out_stat = None
    for source in inputs:
        if source is None or os.fspath(source) == STDOUT:
            continue
        try:
            same = os.path.realpath(source) == out_path
            if not same and out_stat is not None:
                same = os.path.samestat(os.stat(source), out_stat)
        except (OSError, ValueError):
            continue  # an input that cannot be read: the input checks report it
        if same:
            raise OutputError(f"{name}: is also an input ({os.fspath(source)}); writing it would destroy it")


# ------------------------------------------------------------------------------------------------ checks


def check_output_dir(folder: str | os.PathLike[str]) -> None:
    """Fail fast (OutputError) unless `folder` exists and a file can be created in it: a run must not spend
    minutes computing audio it cannot save. Probes by creating and deleting a hidden file, which also
    catches read-only file systems and a full disk, where permission bits alone would not."""
    folder = Path(folder)
    if not folder.exists():
        raise OutputError(f"{folder}: directory does not exist")
    if not folder.is_dir():
        raise OutputError(f"{folder}: not a directory")
    probe = folder / f".openvoice-tt-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as e:
        raise OutputError(f"{folder}: cannot write here ({write_problem(e)})") from None
    os.close(fd)
    os.unlink(probe)


def ensure_output_dir(folder: str | os.PathLike[str]) -> None:
    """Create `folder` (and its parents) if needed, then `check_output_dir` it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{folder}: cannot create the directory ({write_problem(e)})") from None
    check_output_dir(folder)


def _writable_target(name: str) -> tuple[Path, int | None]:
    """(the path writes go to, symlinks resolved; its st_mode or None when it does not exist yet); a
    directory is refused, since no audio can be written over one."""
    try:  # a FIFO or device: written in place under its own name (/dev/stdout's link target is a
        mode = os.stat(name).st_mode  # "pipe:[123]" that no path reaches)
        if not stat.S_ISREG(mode) and not stat.S_ISDIR(mode):
            return Path(name), mode
    except (OSError, ValueError):
        pass
    target = _target(Path(name), name)
    mode = _mode(target, name)
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(f"{name}: is a directory")
    return target, mode


def check_output_file(destination: str | os.PathLike[str]) -> None:
    """Fail fast unless `destination` ("-" for stdout) can be written: a special file (FIFO, device) must
    be writable itself; anything else needs a writable folder for the temporary file."""
    name = os.fspath(destination)
    if name == STDOUT:
        _check_stdout()
        return
    target, mode = _writable_target(name)
    if mode is not None and not stat.S_ISREG(mode):
        if not os.access(target, os.W_OK):
            raise OutputError(f"{name}: permission denied")
        return
    check_output_dir(target.parent)


def write_problem(error: OSError) -> str:
    """An OSError while writing, in a few words."""
    return _known_problem(error) or _one_line(error)


def output_error(name: str, error: OSError) -> OutputError:
    """The OutputError for a failed write to `name`."""
    if isinstance(error, FileNotFoundError):
        return OutputError(f"{name}: directory {Path(name).parent} does not exist")
    return OutputError(f"{name}: {_known_problem(error) or f'cannot write ({_one_line(error)})'}")


def _known_problem(error: OSError) -> str | None:
    return {
        errno.ENOSPC: "disk full",
        errno.EDQUOT: "disk full",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "read-only file system",
        errno.ELOOP: "too many levels of symbolic links",
        errno.ENAMETOOLONG: "file name too long",
        errno.EPIPE: "output closed early (broken pipe)",
    }.get(error.errno)


def _one_line(error: OSError) -> str:
    return " ".join((error.strerror or str(error)).split()) or type(error).__name__
