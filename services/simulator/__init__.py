"""The session simulator: realistic voice sessions for every provider, for demos, tests, benches.

    results = await simulate(settings, "twilio", sessions=2, seed=7, tenant="demo")

``script.py`` writes a deterministic call (pure), ``audio.py`` synthesizes and encodes its audio,
``providers/`` turns it into each provider's wire frames, ``run.py`` publishes them through the
recorder SDK, ``cli.py`` is ``voxledger simulate``.
"""

from services.simulator.run import SimulatedSession, SimulationError, simulate

__all__ = ["SimulatedSession", "SimulationError", "simulate"]
