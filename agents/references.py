"""The scripted fishers a learned one is measured against: one definition for every command.

A verdict ("did patience emerge?") compares a fisher with the scripted fisher that lacks the
skill (`LACKING`); a normalised score puts it between a floor and a reference
((x - floor) / (reference - floor), `NORMALISE`); tables put a trained fisher beside the fishers
that bound each skill (`BESIDE_TRAINED`); skill cards add the single-skill fishers (`SKILL_CARDS`).
"""

from __future__ import annotations

# skill -> the scripted fisher without that skill (the level below which it did not emerge); for
# weather reading the reflex that acts only once the storm is on (anticipation 0), not the blind one
LACKING: dict[str, str] = {"patience": "impatient", "weather_reading": "reactive",
                           "knowing_fish": "random", "survival": "random"}
# (floor, reference) of a normalised score
NORMALISE: tuple[str, str] = ("random", "expert")
# beside a trained fisher in the main job, its report and the time-to-competence benchmark
BESIDE_TRAINED: tuple[str, ...] = ("random", "impatient", "weather_blind", "reactive", "expert", "oracle")
# the probe's skill cards: every single-skill fisher between the floor and the expert
SKILL_CARDS: tuple[str, ...] = ("random", "impatient", "patient", "weather_wise", "spot_wise", "reactive",
                                "expert")
