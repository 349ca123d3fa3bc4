"""``python -m sqlgh``: the ``sqlgh`` command."""

from sqlgh.cli import console

if __name__ == "__main__":
    console()
