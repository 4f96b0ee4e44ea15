"""`python -m kubectl_vip.release`: build the krew archives (see build.py)."""

import sys

from .build import main

sys.exit(main())
