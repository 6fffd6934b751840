"""The CLI's error and exit policy: what a failure prints and the status the process exits with.

Exit codes: 0 success; 1 some batch items failed; 2 usage error (bad option); 3 bad input (text, audio,
option value, unknown speaker, lexicon); 4 checkpoint problem (missing, corrupt, unsafe, NaN weights,
mismatched, download failed); 5 output cannot be written (missing or unwritable folder, disk full, the
output is one of the inputs, stdout or a pipe closed by its reader: "output closed early (broken pipe)"); 6 device
unavailable or broken; 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). Every failure is one `error:`
line on stderr (usage errors too), and with --json also a JSON error object on stdout.

Everything a user can cause is an `OpenVoiceError` (openvoice_tt.errors) that carries its exit code;
`failure` is the one place that turns an exception into the words and the status a user sees, so usage
errors, user errors and stops are all reported alike. Anything else is a bug and keeps its traceback.
"""

import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
import typer.core

from openvoice_tt.cli.ui import Ui
from openvoice_tt.errors import OpenVoiceError, OutputError, Terminated
from openvoice_tt.outputs import discard_stdout

EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 143  # 128 + SIGTERM


BROKEN_PIPE = "stdout: output closed early (broken pipe)"


def failure(
    error: OpenVoiceError | KeyboardInterrupt | typer.Abort | typer.TyperException | BrokenPipeError,
) -> tuple[str, int]:
    """The one map from what went wrong to (the one-line message, the exit code).

    User errors carry their own code; Ctrl-C (`typer.Abort` while Click parses) and SIGTERM are stops;
    the rest are usage errors (unknown option, missing argument, bad choice), with a pointer to the help.
    """
    if isinstance(error, OpenVoiceError):
        return " ".join(str(error).split()), error.exit_code
    if isinstance(error, BrokenPipeError):  # a result (--json, a table) to a reader that left: as -o -
        return BROKEN_PIPE, OutputError.exit_code
    if isinstance(error, KeyboardInterrupt):
        return stopped(isinstance(error, Terminated))
    if isinstance(error, typer.Abort):
        return stopped(False)
    ctx = getattr(error, "ctx", None)
    hint = f" (see '{ctx.command_path} -h')" if ctx is not None else ""
    return f"{' '.join(error.format_message().split())}{hint}", error.exit_code


def stopped(terminated: bool) -> tuple[str, int]:
    """How a stop is reported: SIGTERM ("terminated", 143) or Ctrl-C ("interrupted", 130)."""
    return ("terminated", EXIT_TERMINATED) if terminated else ("interrupted", EXIT_INTERRUPTED)


def report(message: str, code: int, json_out: bool, manual: Iterable[str] = ()) -> None:
    """A failure: `error: <message>` on stderr (then any manual steps, indented); with --json also
    {"ok": false, "error": ..., "exit_code": ...} on stdout, so a script reading stdout sees why."""
    print(f"error: {message}", file=sys.stderr)
    for line in manual:
        print(f"  {line}", file=sys.stderr)
    if json_out and sys.stdout is not None:
        Ui.json({"ok": False, "error": message, "exit_code": code})


class OneLineErrors(typer.core.TyperGroup):
    """Usage errors (unknown option, missing argument, bad choice) as one `error: ...` line and exit 2, in
    the same style as every other error, instead of Click's boxed usage panel; with --json, also a JSON
    error object on stdout. (typer vendors click: its ClickException derives from typer.TyperException.)"""

    def main(self, args: Any = None, *pos: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(args, *pos, standalone_mode=False, **kwargs)
        argv = list(sys.argv[1:] if args is None else args)
        try:
            code = super().main(argv, *pos, standalone_mode=False, **kwargs)
        except (typer.TyperException, typer.Abort) as e:
            if type(e).__name__ == "NoArgsIsHelpError":  # no arguments at all: the help is the answer
                print(e.format_message(), file=sys.stderr)
                sys.exit(e.exit_code)
            message, exit_code = failure(e)
            report(message, exit_code, "--json" in argv)
            sys.exit(exit_code)
        sys.exit(code if isinstance(code, int) else 0)


def guarded(command: Callable[..., None]) -> Callable[..., None]:
    """User errors -> `error: <one line>` on stderr and the error's exit code; Ctrl-C -> exit 130; SIGTERM
    -> the same clean unwinding (as `Terminated`), exit 143."""

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            with sigterm_unwinds():
                command(*args, **kwargs)
        except (OpenVoiceError, KeyboardInterrupt, BrokenPipeError) as e:
            if isinstance(e, BrokenPipeError):
                discard_stdout()  # what is buffered, and the --json error object, go nowhere, quietly
            message, code = failure(e)
            report(message, code, kwargs.get("json_out", False), getattr(e, "manual", ()))
            raise typer.Exit(code) from None

    return run


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """While a command runs, SIGTERM raises `Terminated` (a KeyboardInterrupt) instead of killing the
    process where it stands, so temporary files are removed and a batch still writes its summary."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
