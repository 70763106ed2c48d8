"""Write the generated reference in docs/reference/ (the HTTP API, the `wht` command line,
the policy packs) from the code; `--check` writes nothing and exits 1 naming each file that
is stale. The generation itself is `api.reference` (installed, so tests use it too).

    .venv/bin/python scripts/docs.py           # rewrite what changed
    .venv/bin/python scripts/docs.py --check   # exit 1 if a file is not current
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from api.reference import generated, stale, write

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 if stale")
    args = parser.parse_args(argv)
    # The throwaway tracker behind the OpenAPI document has no key: not worth a warning.
    logging.getLogger("wht").setLevel(logging.ERROR)
    files = generated()
    if args.check:
        out_of_date = stale(ROOT, files)
        for path in out_of_date:
            print(f"stale: {path} (run .venv/bin/python scripts/docs.py)", file=sys.stderr)
        return 1 if out_of_date else 0
    for path in write(ROOT, files):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
