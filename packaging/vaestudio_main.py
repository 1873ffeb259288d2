"""Entry script of the frozen app (PyInstaller): one executable for the window (no arguments),
every verb (`vaestudio train ...`) and `--version`, exactly like the `vaestudio` console script.

`vaestudio/__main__.py` cannot be the entry: it uses a relative import, and PyInstaller runs
its entry script as a top-level `__main__` outside the package.
"""
import multiprocessing
import sys

from vaestudio.cli import main

if __name__ == "__main__":
    # A frozen app re-runs this executable for any child process that multiprocessing spawns;
    # freeze_support turns such a run into the child instead of a second window.
    multiprocessing.freeze_support()
    sys.exit(main())
