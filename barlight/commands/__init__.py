"""One module per ``barlight`` subcommand.

Each module defines ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. Modules import only argparse-level things at import time;
heavy libraries (torch, Qt, librosa) are imported inside ``run`` so that
``barlight --help`` and the DAW-side senders start fast.
"""
