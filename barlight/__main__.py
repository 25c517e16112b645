import sys

from barlight.cli import main

sys.exit(main())
