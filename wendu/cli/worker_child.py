"""One worker process of `wendu worker --processes N` (see wendu.cli.workerpool).

Kept apart from the pool: the child runs `wendu.cli.up.run_service`, and `wendu.cli.up`
starts the pool, so the two would otherwise import each other.
"""

from __future__ import annotations

import logging
import os
import sys


def child() -> None:
    """A worker process of the pool (argv: slot, quiet|info). Settings come from WENDU_*."""
    slot, level = int(sys.argv[1]), sys.argv[2]
    code = 0
    try:
        from wendu.cli.common import UserError, load_settings
        from wendu.cli.up import run_service

        try:
            run_service(load_settings(), "worker", label=f"worker-{slot}", quiet=level == "quiet")
        except UserError as exc:
            print(f"Error: worker {slot}: {exc}", file=sys.stderr)
            code = 1
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    except BaseException:
        logging.getLogger("wendu").exception("worker %d failed", slot)
        code = 1
    # The Temporal SDK's Rust threads can abort interpreter shutdown (temporalio/sdk-python#300).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
