"""A seeded synthetic Cardiff: messy ED, ambulance and police extracts with known truth.

Placeholder docstring; replaced below.
"""

from cardiffmodel.synth.city import CityManifest, generate_city

__all__ = ["CityManifest", "generate_city"]
