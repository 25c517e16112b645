"""``python -m bridge.senders.scripted``: stream the benchmarks' cycle (see :func:`~bridge.senders.scripted.stream.main`)."""

from bridge.senders.scripted.stream import main

if __name__ == "__main__":
    raise SystemExit(main())
