"""``python -m shotenc``: the command line (``main`` is the click group, for testing it in-process too)."""

from ._cli import main

if __name__ == "__main__":
    main()
