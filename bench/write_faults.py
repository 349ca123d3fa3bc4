"""Every write x every fault x every request position: is anything lost, duplicated, left
behind, or misreported? (issue 14, parts 6 to 9.)

Run by hand: ``python bench/write_faults.py [--quick]``. Each write first runs without a
fault to learn its requests; then, for each of those requests and each fault kind that
applies to it, the write runs again with that request failing (and, for the ``+outage``
kinds, every request after it answered 503). A trial counts as:
- lost: bytes that were on GitHub before and should still be there (or the new bytes, for
  a replace) are nowhere in the release, or another asset was touched;
- duplicated: more than one asset holds the bytes the write uploaded;
- orphan: an asset in state ``starter`` or named ``sqlgh-...`` is left;
- lied: the statement succeeded without its effect, or its error says "Nothing was
  changed" / "it is unchanged" while something was, leaves an orphan it does not name,
  or advises acting on an asset that does not exist.
Prints a Markdown table per write and the totals.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import markdown_table

import sqlgh
from sqlgh.emulator import Emulator, Fault
from sqlgh.errors import SqlghError

TOKEN = "test-token"
OLD, OTHER, NEW = b"old notes\n", b"other file\n", b"new bytes\n"
# Advice to act on an asset: "Rename asset N", "UPDATE ... id = N", "DELETE ... id = N".
ADVICE = re.compile(r"(?:Rename asset |(?:UPDATE|DELETE FROM) release_assets [^;]*?\bid = )(\d+)")
INSERT = (
    "INSERT {mode} INTO release_assets(owner, repo, release_id, name, data) VALUES (?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Write:
    """One write: its SQL (given the trial's repo, release and asset ids) and the state
    it must leave when it succeeds."""

    title: str
    sql: Callable[[str, int, int], tuple[str, tuple]]
    done: Callable[[dict[str, dict], dict[int, bytes]], bool]


def _insert(mode: str, name: str) -> Callable[[str, int, int], tuple[str, tuple]]:
    def sql(repo: str, release_id: int, notes_id: int) -> tuple[str, tuple]:
        return INSERT.format(mode=mode), ("acme", repo, release_id, name, NEW)

    return sql


def _keyed(statement: str, listed: bool = False) -> Callable[[str, int, int], tuple[str, tuple]]:
    def sql(repo: str, release_id: int, notes_id: int) -> tuple[str, tuple]:
        where = "owner = 'acme' AND repo = ?"
        if listed:
            return f"{statement} WHERE {where} AND release_id = ? AND name = 'notes.txt'", (
                repo,
                release_id,
            )
        return f"{statement} WHERE {where} AND id = ?", (repo, notes_id)

    return sql


def _holds(name: str, content: bytes) -> Callable[[dict[str, dict], dict[int, bytes]], bool]:
    return lambda named, contents: name in named and contents[named[name]["id"]] == content


WRITES = [
    Write("INSERT", _insert("", "fresh.bin"), _holds("fresh.bin", NEW)),
    Write("INSERT OR REPLACE", _insert("OR REPLACE", "notes.txt"), _holds("notes.txt", NEW)),
    Write("INSERT OR IGNORE (exists)", _insert("OR IGNORE", "notes.txt"), _holds("notes.txt", OLD)),
    Write("INSERT OR IGNORE (new)", _insert("OR IGNORE", "fresh.bin"), _holds("fresh.bin", NEW)),
    Write(
        "UPDATE name (keyed)",
        _keyed("UPDATE release_assets SET name = 'renamed.txt'"),
        lambda n, c: "notes.txt" not in n and _holds("renamed.txt", OLD)(n, c),
    ),
    Write(
        "UPDATE label (keyed)",
        _keyed("UPDATE release_assets SET label = 'L'"),
        lambda named, contents: named.get("notes.txt", {}).get("label") == "L",
    ),
    Write(
        "UPDATE label (listed)",
        _keyed("UPDATE release_assets SET label = 'L'", listed=True),
        lambda named, contents: named.get("notes.txt", {}).get("label") == "L",
    ),
    Write(
        "DELETE (keyed)", _keyed("DELETE FROM release_assets"), lambda n, c: "notes.txt" not in n
    ),
    Write(
        "DELETE (listed)",
        _keyed("DELETE FROM release_assets", listed=True),
        lambda n, c: "notes.txt" not in n,
    ),
]

BAD = ("lied", "lost", "duplicated", "orphans")


def _outage(k: int) -> list[Fault]:
    """503 for every request after the one at position ``k`` (faults are tried in order,
    and a request the first fault takes is not counted by this one)."""
    return [Fault("status", status=503, after=k, times=-1)]


# name -> the faults that make the request at position k fail
KINDS: dict[str, Callable[[int], list[Fault]]] = {
    "500": lambda k: [Fault("status", status=500, after=k)],
    "502": lambda k: [Fault("status", status=502, after=k)],
    "drop": lambda k: [Fault("drop", after=k)],
    "lost": lambda k: [Fault("lost", after=k)],
    "truncated": lambda k: [Fault("truncated", after=k)],
    "non_json": lambda k: [Fault("non_json", after=k)],
    "upload_502_starter": lambda k: [Fault("upload_502_starter", after=k)],
    "lost+outage": lambda k: [Fault("lost", after=k), *_outage(k)],
    "500+outage": lambda k: [Fault("status", status=500, after=k), *_outage(k)],
}


class Bench:
    """One emulator; each trial writes in a repository of its own."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.trials = 0

    def setup(self) -> tuple[str, int, dict[str, dict]]:
        self.trials += 1
        repo = f"t{self.trials}"
        self.emu.add_repo("acme", repo)
        release_id = self.emu.add_release("acme", repo, "v1")["id"]
        self.emu.add_asset("acme", repo, release_id, "notes.txt", content=OLD)
        self.emu.add_asset("acme", repo, release_id, "other.txt", content=OTHER)
        return repo, release_id, self.state(repo, release_id)[0]

    def state(self, repo: str, release_id: int) -> tuple[dict[str, dict], dict[int, bytes]]:
        listed = self.emu.list_assets("acme", repo, release_id)
        named = {a["name"]: a for a in listed}
        contents = {
            a["id"]: self.emu.asset_content(a["id"]) if a["state"] == "uploaded" else b""
            for a in listed
        }
        return named, contents

    def run(self, write: Write, faults: list[Fault]) -> tuple[str | None, list, dict, dict, dict]:
        """One trial: (error text or None, the requests, state before, state after)."""
        repo, release_id, before = self.setup()
        db = sqlgh.connect(
            api_url=self.emu.api_url,
            uploads_url=self.emu.uploads_url,
            token=TOKEN,
            mutation_interval=0,
            retry_backoff=0,
            cache=False,
        )
        sql, params = write.sql(repo, release_id, before["notes.txt"]["id"])
        self.emu.clear_log()
        for fault in faults:
            self.emu.add_fault(fault)
        error = None
        try:
            db.execute(sql, params)
        except SqlghError as exc:
            error = str(exc)
        finally:
            self.emu.clear_faults()
            db.close()
        log = list(self.emu.log)
        named, contents = self.state(repo, release_id)
        return error, log, before, named, contents


def judge(write: Write, error: str | None, before: dict, named: dict, contents: dict) -> Counter:
    """The counts of one trial."""
    counts: Counter = Counter()
    done = write.done(named, contents)
    all_bytes = list(contents.values())
    if OTHER not in all_bytes or named.get("other.txt", {}).get("label") is not None:
        counts["lost"] += 1
    if "DELETE" not in write.title and OLD not in all_bytes and not (
        "REPLACE" in write.title and done
    ):
        counts["lost"] += 1
    if "REPLACE" in write.title and OLD not in all_bytes and NEW not in all_bytes:
        counts["lost"] += 1
    if all_bytes.count(NEW) > 1:
        counts["duplicated"] += 1
    orphans = [a for n, a in named.items() if n.startswith("sqlgh-") or a["state"] != "uploaded"]
    if orphans:
        counts["orphans"] += len(orphans)
    unchanged = {n: (a["id"], a["label"]) for n, a in named.items()} == {
        n: (a["id"], a["label"]) for n, a in before.items()
    }
    lied = False
    if error is None:
        lied = not done
    else:
        if ("Nothing was changed" in error or "it is unchanged" in error) and not unchanged:
            lied = True
        if "is unknown" not in error and any(str(a["id"]) not in error for a in orphans):
            lied = True
        advice = re.sub(r"if it is still there, [^;]*", "", error)  # conditional: honest
        if any(int(advised) not in contents for advised in ADVICE.findall(advice)):
            lied = True  # advice to act on an asset that does not exist
    counts["lied"] += int(lied)
    counts["succeeded" if error is None else "failed"] += 1
    counts["unknown outcome"] += int(error is not None and "is unknown" in error)
    return counts


COLUMNS = (
    *("trials", "succeeded", "failed", "unknown outcome"),
    *("lost", "duplicated", "orphans", "lied"),
)


def run_matrix(kinds: list[str]) -> tuple[list[list[object]], Counter, list[str]]:
    """Every write x ``kinds`` x request position: a table row per write, the totals, and
    a line for each trial that lost, duplicated, orphaned or lied."""
    totals: Counter = Counter()
    rows: list[list[object]] = []
    examples: list[str] = []
    with Emulator() as emu:
        bench = Bench(emu)
        for write in WRITES:
            _, requests, *_ = bench.run(write, [])
            per_write: Counter = Counter()
            for position, request in enumerate(requests):
                for kind in kinds:
                    if kind == "upload_502_starter" and request.origin != "uploads":
                        continue
                    error, _, before, named, contents = bench.run(write, KINDS[kind](position))
                    counts = judge(write, error, before, named, contents)
                    counts["trials"] += 1
                    per_write += counts
                    flags = ",".join(k for k in BAD if counts[k])
                    if flags:
                        where = f"{request.method} {request.origin} {request.path.rsplit('/')[-1]}"
                        trial = f"{write.title} / {kind} at {position} ({where})"
                        examples.append(f"[{flags}] {trial}: {error}")
            totals += per_write
            rows.append([write.title, len(requests), *[per_write[c] for c in COLUMNS]])
    return rows, totals, examples


def main() -> None:
    kinds = ["500", "lost", "lost+outage"] if "--quick" in sys.argv else list(KINDS)
    rows, totals, examples = run_matrix(kinds)
    print(markdown_table(["write", "requests", *COLUMNS], rows))
    print()
    print("totals: " + ", ".join(f"{c} {totals[c]}" for c in COLUMNS))
    for example in examples[:40]:
        print("-", example[:600])


if __name__ == "__main__":
    main()
