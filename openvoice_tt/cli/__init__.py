"""`openvoice-tt`, the command-line tool: thin Typer commands over `openvoice_tt.api`, rendered with rich.

Output goes where scripts expect it: results (tables, `--json`) on stdout; progress bars, notes, warnings
and errors on stderr; audio on stdout only with `-o -`. `--quiet` leaves nothing but errors. torch is
imported inside the commands, so `--help` is quick.

Where to look:
  app.py      the Typer app, `--version`, and the list of commands (in --help order); `main`
  errors.py   the error and exit-code policy (one `error:` line; exit codes 0-6, 130, 143); SIGTERM
  options.py  option types shared by the commands (--checkpoints, --device, --speed, ...)
  ui.py       where words go: stdout results, stderr notes and progress, --quiet, warnings as notes
  textio.py   reading TEXT / stdin, checking and writing audio outputs (streamed too), the summary line
  render.py   the tables (phonemes, speakers, doctor, batch, bench, placement)
  speech.py   synth, clone, convert, extract-se      info.py     phonemes, speakers, doctor
  ops.py      download, batch, serve                 measure.py  bench, placement
"""

from openvoice_tt.cli.app import app, main

__all__ = ["app", "main"]
