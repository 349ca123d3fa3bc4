"""How a user sets a connection option, in words an error message can end with.

The ``sqlgh`` shell takes an option as ``-o NAME=VALUE`` on its command line, Python as
a keyword argument of ``sqlgh.connect()``; a message that names an option says both.
"""

from __future__ import annotations


def _shell_value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


def _python_value(value: object) -> str:
    if isinstance(value, float) and not isinstance(value, bool):
        return f"{value:g}"
    return repr(value)


def how_to_set(name: str, value: object) -> str:
    """``sqlgh -o read_timeout=60 in the shell, sqlgh.connect(read_timeout=60) in Python``."""
    return (
        f"sqlgh -o {name}={_shell_value(value)} in the shell, "
        f"sqlgh.connect({name}={_python_value(value)}) in Python"
    )
