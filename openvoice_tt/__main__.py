"""`python -m openvoice_tt` runs the CLI (same as the `openvoice-tt` command)."""

from openvoice_tt.cli import main

main()
