"""Who gets hurt, when, how, and who finds out: the invented parameters of the world model.

Figures are chosen to look like the published picture of urban violence in the UK (the
night-time economy peak, glass in pubs and knives in the street, young men as victims in
public and women at home) and so that about 59% of ED assault attendances are unknown to
the police (Gray et al. 2017, South Wales).
"""

from __future__ import annotations

import numpy as np

PROFILE_OF = {
    "licensed": "nte",
    "nte_street": "nte",
    "venue_other": "nte",
    "street": "street",
    "transport": "street",
    "school_work": "work",
    "home": "home",
}
FAMILY_OF = {  # settings that share victims and weapons
    "licensed": "nte",
    "nte_street": "nte",
    "venue_other": "nte",
    "transport": "nte",
    "street": "street",
    "school_work": "work",
    "home": "home",
}

LOCATION_TYPE = {
    "licensed": {"licensed_premises": 0.75, "street": 0.25},  # inside or just outside
    "nte_street": {"street": 1.0},
    "street": {"street": 1.0},
    "venue_other": {"other": 0.6, "street": 0.4},
    "school_work": {"school_work": 1.0},
    "transport": {"transport": 1.0},
    "home": {"home": 0.68, "other_home": 0.32},
}
WEAPON = {
    "licensed": {
        "body": 0.68,
        "bottle_glass": 0.22,
        "knife_sharp": 0.03,
        "blunt_object": 0.03,
        "other": 0.04,
    },
    "nte_street": {
        "body": 0.76,
        "bottle_glass": 0.08,
        "knife_sharp": 0.08,
        "blunt_object": 0.04,
        "other": 0.04,
    },
    "street": {
        "body": 0.70,
        "knife_sharp": 0.11,
        "blunt_object": 0.08,
        "bottle_glass": 0.04,
        "firearm": 0.01,
        "other": 0.06,
    },
    "venue_other": {
        "body": 0.76,
        "bottle_glass": 0.05,
        "knife_sharp": 0.08,
        "blunt_object": 0.05,
        "other": 0.06,
    },
    "school_work": {"body": 0.85, "blunt_object": 0.05, "other": 0.10},
    "transport": {
        "body": 0.80,
        "knife_sharp": 0.06,
        "bottle_glass": 0.05,
        "blunt_object": 0.04,
        "other": 0.05,
    },
    "home": {
        "body": 0.76,
        "knife_sharp": 0.07,
        "blunt_object": 0.09,
        "bottle_glass": 0.03,
        "other": 0.05,
    },
}
MALE = {
    "licensed": 0.80,
    "nte_street": 0.82,
    "street": 0.80,
    "venue_other": 0.75,
    "school_work": 0.50,
    "transport": 0.72,
    "home": 0.35,
}
AGE_BAND = {
    "nte": {
        "11-17": 0.03,
        "18-24": 0.42,
        "25-34": 0.30,
        "35-44": 0.13,
        "45-54": 0.08,
        "55-64": 0.03,
        "65+": 0.01,
    },
    "street": {
        "0-10": 0.01,
        "11-17": 0.10,
        "18-24": 0.30,
        "25-34": 0.26,
        "35-44": 0.15,
        "45-54": 0.10,
        "55-64": 0.05,
        "65+": 0.03,
    },
    "work": {
        "11-17": 0.15,
        "18-24": 0.20,
        "25-34": 0.22,
        "35-44": 0.18,
        "45-54": 0.15,
        "55-64": 0.09,
        "65+": 0.01,
    },
    "home": {
        "0-10": 0.02,
        "11-17": 0.05,
        "18-24": 0.18,
        "25-34": 0.29,
        "35-44": 0.23,
        "45-54": 0.13,
        "55-64": 0.06,
        "65+": 0.04,
    },
}
AGE_RANGE = {
    "0-10": (1, 10),
    "11-17": (11, 17),
    "18-24": (18, 24),
    "25-34": (25, 34),
    "35-44": (35, 44),
    "45-54": (45, 54),
    "55-64": (55, 64),
    "65+": (65, 89),
}
RELATIONSHIP = {
    "nte": {"stranger": 0.65, "acquaintance": 0.25, "partner": 0.03, "family": 0.02, "other": 0.05},
    "street": {
        "stranger": 0.55,
        "acquaintance": 0.30,
        "partner": 0.05,
        "family": 0.04,
        "other": 0.06,
    },
    "work": {"stranger": 0.45, "acquaintance": 0.35, "other": 0.20},
    "home_female": {
        "partner": 0.55,
        "family": 0.22,
        "acquaintance": 0.13,
        "stranger": 0.04,
        "other": 0.06,
    },
    "home_male": {
        "partner": 0.22,
        "family": 0.35,
        "acquaintance": 0.28,
        "stranger": 0.10,
        "other": 0.05,
    },
}
ASSAILANTS = {
    "nte": (0.55, 0.25, 0.12, 0.05, 0.03),
    "street": (0.62, 0.22, 0.10, 0.04, 0.02),
    "work": (0.85, 0.10, 0.05, 0.0, 0.0),
    "home": (0.90, 0.08, 0.02, 0.0, 0.0),
}
INJURY = ("none", "minor", "serious")
INJURY_BY_WEAPON = {
    "body": (0.55, 0.37, 0.08),
    "bottle_glass": (0.22, 0.50, 0.28),
    "knife_sharp": (0.20, 0.45, 0.35),
    "blunt_object": (0.33, 0.45, 0.22),
    "firearm": (0.10, 0.30, 0.60),
    "other": (0.50, 0.40, 0.10),
}

# Who records an assault. Ambulance crews take most seriously hurt people to an ED;
# walk-in attendance rises with injury. Reporting to police falls for young men and after
# assaults by strangers (Gray et al. 2017) and is higher at home and for assaults without
# injury, which police record in numbers that never reach a hospital.
P_AMBULANCE = {"none": 0.004, "minor": 0.05, "serious": 0.45}
P_ED_AFTER_AMBULANCE = 0.92
P_ED = {"none": 0.008, "minor": 0.12, "serious": 0.45}
# Drinkers hurt in town are brought in by friends; violence at home is often hidden.
ED_FACTOR = {"licensed": 1.3, "nte_street": 1.3, "home": 0.6}
P_POLICE = 0.54
POLICE_FACTOR_YOUNG_MAN = 0.63
POLICE_FACTOR_STRANGER = 0.65
POLICE_FACTOR_INJURY = {"none": 1.1, "minor": 0.88, "serious": 1.0}
POLICE_FACTOR_HOME = 1.25
P_ADMITTED = {"none": 0.0, "minor": 0.04, "serious": 0.35}

# Emergency Departments: where they are and their share of assault patients before
# distance is taken into account. The minor injuries unit sees no serious injuries.
ED_SITES = {
    "uhw": (-3.1905, 51.5070, 0.62),
    "llandough": (-3.2010, 51.4530, 0.25),
    "cri": (-3.1630, 51.4855, 0.13),
}
ED_DISTANCE_KM = 4.0


def time_profiles() -> dict[str, np.ndarray]:
    """Day-of-week (Monday first) by hour weights per profile, each averaging 1 a day.

    The night-time economy profile puts Friday and Saturday nights (22:00-04:00, the small
    hours counted on the next day) far above everything else; home violence is flatter.
    """
    night = {
        "nte": (0.8, 0.8, 1.6, 2.0, 6.5, 7.5, 1.2),
        "street": (0.3, 0.3, 0.4, 0.5, 1.3, 1.5, 0.4),
        "work": (0.0,) * 7,
        "home": (0.1, 0.1, 0.1, 0.1, 0.3, 0.3, 0.1),
    }
    base = {
        "nte": [0.05] * 6 + [0.1] * 6 + [0.3] * 6 + [0.6] * 4 + [0.8] * 2,
        "street": [0.15] * 7 + [0.5] * 5 + [1.0] * 6 + [1.2] * 4 + [0.8] * 2,
        "work": [0.0] * 7 + [1.0] * 11 + [0.3] * 3 + [0.0] * 3,
        "home": [0.5] * 6 + [0.5] * 6 + [0.8] * 6 + [1.4] * 6,
    }
    weekend_work = 0.3
    profiles = {}
    for name, hours in base.items():
        grid = np.tile(np.asarray(hours, dtype=float), (7, 1))
        if name == "work":
            grid[5:] *= weekend_work
        if name == "home":
            grid[4:] *= 1.2
        for day, strength in enumerate(night[name]):
            grid[day, 22:] += strength
            grid[(day + 1) % 7, :4] += strength
            grid[(day + 1) % 7, 4] += 0.4 * strength
        profiles[name] = grid * 7 / grid.sum()
    return profiles


def seasonality(day_of_year: np.ndarray) -> np.ndarray:
    """Mild: about 10% above average in mid-December, 10% below in mid-June."""
    return 1.0 + 0.10 * np.cos(2 * np.pi * (day_of_year - 350) / 365.25)
