"""Print one of the README's "Two commands" exactly as written: 1 installs and runs the main
job, 2 runs the tests. Why: ``.ci/run`` runs the test command through this, so CI runs what
the README tells a user to run, and the two cannot drift."""

from __future__ import annotations

import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def two_commands(text: str) -> list[str]:
    """The ```bash blocks of the README's section "Two commands", stripped."""
    section = text.split("\n## Two commands\n", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


if __name__ == "__main__":
    commands = two_commands(README.read_text(encoding="utf-8"))
    if len(commands) != 2 or len(sys.argv) != 2 or sys.argv[1] not in ("1", "2"):
        sys.exit(f"usage: {sys.argv[0]} 1|2 (found {len(commands)} commands in {README})")
    print(commands[int(sys.argv[1]) - 1])
