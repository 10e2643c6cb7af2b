"""A command run next to CPU-bound neighbours: how an engine's threads fare on a busy machine.

    python -m bench.neighbours [-n 2] -- COMMAND [ARG ...]

Starts ``n`` processes that each keep one processor busy (a Python loop), runs COMMAND, then
stops them; COMMAND's exit status is returned. An engine whose threads spin while waiting
loses to such neighbours; one whose threads sleep shares the processors.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

BUSY = "while True:\n    pass\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.neighbours", description=__doc__)
    parser.add_argument("-n", type=int, default=2, help="busy neighbours (default: 2)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    neighbours = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(args.n)]
    try:
        return subprocess.run(command, check=False).returncode
    finally:
        for neighbour in neighbours:
            neighbour.kill()
            neighbour.wait()


if __name__ == "__main__":
    sys.exit(main())
