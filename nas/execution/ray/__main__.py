"""``python -m nas.execution.ray FD PARENT [LOG]``: the host process of
:mod:`nas.execution.ray.host`, talking over socket ``FD`` to search driver ``PARENT`` (a pid)."""

import sys

from nas.execution.ray.host import main

sys.exit(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None))
