"""Kinetic Monte Carlo: the engine API (kernels are private)."""

from .engine import ChunkReport, Simulation, SystemParams, normalize_seed

__all__ = ["Simulation", "SystemParams", "ChunkReport", "normalize_seed"]
