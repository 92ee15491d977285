"""``python -m nas.execution.ray FD``: the host process of :mod:`nas.execution.ray.host`."""

import sys

from nas.execution.ray.host import main

sys.exit(main(int(sys.argv[1])))
