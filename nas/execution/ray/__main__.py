"""``python -m nas.execution.ray FD [LOG]``: the host process of
:mod:`nas.execution.ray.host`."""

import sys

from nas.execution.ray.host import main

sys.exit(main(int(sys.argv[1]), sys.argv[2] if len(sys.argv) > 2 else None))
