"""`python -m paperlink …` (on Windows `py -m paperlink …`): the same as the `paperlink` command, for a PC where
the Scripts folder holding paperlink.exe is not on PATH (a `pip install --user`, Python from the Store)."""

from paperlink.cli import main

if __name__ == "__main__":
    main(prog_name="paperlink")
