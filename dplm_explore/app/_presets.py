"""The explorer's lesson presets: a system, a temperature program and a caption of what to look
at, chosen in one click (:data:`PRESETS`)."""

from __future__ import annotations

from dataclasses import dataclass

from .runner import ProgramConfig


@dataclass(frozen=True)
class Preset:
    """A lesson in one click: a system (widget values), a program and what to look at."""

    title: str
    system: dict
    program: ProgramConfig
    caption: str


#: the explorer's lesson presets (L = 40 keeps sites large enough to see on a projector; the C_v
#: lesson takes L = 80, as the heat capacity of fewer voids is that of a handful of TLS). Cooling
#: rates lie on the ν slider's grid (10^(k/4)): a rate between its steps would be moved by the
#: page, and the program would then read as edited.
PRESETS: dict[str, Preset] = {
    "tls-emerge": Preset(
        "TLS emerge on cooling", {"L": 40, "phi_v": 0.02, "g_family": "uniform", "init": "equilibrium", "T_I": 0.2, "seed": 1},
        ProgramConfig("cool", 0.04, 1e-2),
        "A liquid at T = 0.2 is cooled into the glass. Watch p_void shrink from wandering voids to a few sites; "
        "below T ≈ 0.05 some voids rock between two sites: TLS appear in the catalogue."),
    "ultrastable": Preset(
        "Ultrastable glass (T_I = 0.05)", {"L": 40, "phi_v": 0.02, "g_family": "uniform", "init": "equilibrium", "T_I": 0.05, "seed": 2},
        ProgramConfig("cool", 0.005, 10**-2.75),
        "Built directly in equilibrium at T_I = 0.05 (far below T_g ≈ 0.15): almost every void is frozen; "
        "the few TLS are all there is, as the theory assumes."),
    "glycerol": Preset(
        "Glycerol-like g (Fermi plus Gaussian)", {"L": 40, "phi_v": 0.031, "g_family": "fermi-gauss", "G0": 0.2, "sigma_V": 0.1, "dV": 1.0,
                                                   "init": "equilibrium", "T_I": 0.3, "seed": 3},
        ProgramConfig("cool", 0.05, 1e-2),
        "The paper's glycerol parameters (G0 = 0.2, σ_V = 0.1, φ_v = 0.031): a more fragile glass. "
        "Compare g(V) with p_eq(V; T) as it cools, and D falling near T_g ≈ 0.24."),
    "cv-linear": Preset(
        "C_v linear in T", {"L": 80, "phi_v": 0.02, "g_family": "uniform", "init": "equilibrium", "T_I": 0.05, "seed": 4},
        ProgramConfig("cool", 0.01, 10**-3.5),
        "Slow cooling of an ultrastable glass (L = 80: enough TLS to average over). In the C_v / T against T² tab compare the "
        "points with the dashed line c1 + c3 T² of the theory: C_v ≈ c1 T, the TLS signature. At the lowest T the slowest "
        "TLS stop flipping within a frame and the points fall below it; the error bars shrink as the run goes on."),
}
