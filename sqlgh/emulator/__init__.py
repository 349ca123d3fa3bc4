"""A faithful GitHub REST stand-in for release assets, on 127.0.0.1.

>>> from sqlgh.emulator import Emulator
>>> with Emulator() as emu:
...     emu.add_repo("octocat", "hello")["full_name"]
'octocat/hello'

It imports nothing from the rest of sqlgh: it stands in for GitHub, so it must not share
code with the client it tests.
"""

from sqlgh.emulator.app import RequestRecord
from sqlgh.emulator.emulator import Emulator
from sqlgh.emulator.faults import Fault

__all__ = ["Emulator", "Fault", "RequestRecord"]
