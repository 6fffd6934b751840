"""Where the command's words go: results on stdout, progress, notes, warnings on stderr.

Results (tables, `--json`) go to stdout, where scripts read them; everything else goes to stderr, so it
never mixes into a result or into audio written to `-o -`. `--quiet` leaves nothing but errors. rich is
imported when a `Ui` is made, not when the CLI starts, so `--help` stays quick.
"""

import json
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

WIDE = 400  # characters: the console width for tables written to a file or pipe
PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)  # openvoice_tt/: whose warnings are ours


class Ui:
    """Where the command's words go; --quiet silences everything but errors."""

    def __init__(self, quiet: bool = False) -> None:
        from rich.console import Console

        self.quiet = quiet
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Console(highlight=False, soft_wrap=True)
        if not self.out.is_terminal:  # tables in a file or pipe: never cut cells to 80 columns
            self.out.width = WIDE

    def note(self, message: str) -> None:
        if not self.quiet:
            self.err.print(f"note: {message}", markup=False)

    def warning(self, message: str) -> None:
        if not self.quiet:
            self.err.print(f"warning: {message}", markup=False)

    def status(self, message: str) -> None:
        if not self.quiet:
            self.err.print(message, markup=False)

    @staticmethod
    def json(data: Any) -> None:
        if sys.stdout is None:  # started with fd 1 closed: the result has nowhere to go
            from openvoice_tt.errors import OutputError

            raise OutputError("stdout: not open (--json)")
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    @contextmanager
    def progress(self, label: str) -> Iterator[Callable[[int, int], None]]:
        """A progress bar on stderr, driven by the API's (done, total) callbacks; only on a terminal (in a
        log or a pipe it would leave blank lines behind)."""
        if self.quiet or not self.err.is_terminal:
            yield lambda done, total: None
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self.err, transient=True) as bar:
            task = bar.add_task(label, total=None)
            yield lambda done, total: bar.update(task, completed=done, total=total)

    @contextmanager
    def rendered_warnings(self) -> Iterator[None]:
        """Show this package's warnings as one-line notes (each once); drop library deprecation chatter."""
        from openvoice_tt.text import NoBertWarning

        seen: set[str] = set()

        def show(message: Warning | str, category: type[Warning], filename: str, *args: object, **kw: object) -> None:
            text = " ".join(str(message).split())
            ours = category.__module__.startswith("openvoice_tt") or filename.startswith(PACKAGE_DIR)
            if not ours or text in seen:
                return
            seen.add(text)
            (self.note if issubclass(category, NoBertWarning) else self.warning)(text)

        with warnings.catch_warnings():
            warnings.simplefilter("always")
            for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
                warnings.simplefilter("ignore", category)
            warnings.showwarning = show
            yield
