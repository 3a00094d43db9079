"""Write ``layers/relance/first_pdf_modules.txt``: the fontTools/Pillow modules a first PDF imports.

The layer ships bytecode for these (layers/relance/Makefile) so a container's first letter does not compile
them; run ``python -m bench.first_pdf_modules`` after upgrading fpdf2, fontTools or Pillow.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LIST = Path(__file__).resolve().parents[1] / "layers" / "relance" / "first_pdf_modules.txt"
PACKAGES = ("fontTools", "PIL")

_PROBE = """
import sys
from bench.render import LETTER_STEP, contexts
from relance.rendering import render_pdf
before = set(sys.modules)
render_pdf(LETTER_STEP, contexts()[0])
for name in sorted(set(sys.modules) - before):
    module = sys.modules[name]
    path = getattr(module, "__file__", None) or ""
    if name.split(".")[0] not in {packages!r}:
        continue
    if path.endswith(".py"):
        print(path.split("/site-packages/", 1)[-1])
    elif path.endswith(".so") and name.startswith("fontTools."):
        print(name.replace(".", "/") + ".py")     # the layer drops the accelerator: its twin is imported
"""


def modules() -> list[str]:
    """Source files (relative to site-packages) of the fontTools/PIL modules the first PDF imports."""
    proc = subprocess.run([sys.executable, "-c", _PROBE.format(packages=set(PACKAGES))], check=True,
                          capture_output=True, text=True, cwd=LIST.parents[2])
    return sorted(line for line in proc.stdout.splitlines() if line.strip())


def main() -> int:
    LIST.write_text("\n".join(modules()) + "\n", encoding="utf-8")
    print(f"{LIST}: {len(modules())} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
