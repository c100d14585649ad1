"""A seeded synthetic Cardiff: messy ED, ambulance and police extracts with known truth.

No real hospital or ambulance records can be shared, so the demo and the end-to-end tests
run on a synthetic city built on real open data: FSA venues and police.uk streets as the
places, the 2013 wards as stand-in police beats, LSOA residents and deprivation for homes.

World model (parameters in ``world``, ``behaviour`` and ``events``):

* Settings: licensed premises, streets near them (the night-time economy), other streets,
  other venues (takeaways, restaurants, shops), schools and workplaces, transport, homes.
  At scale 1 there are about 27,000 true assaults a year (``world.SETTING_PER_YEAR``).
* Where: each site's weight comes from real signals (licensed venues within 250 m of a
  street, police.uk violent crimes on it, residents and deprivation for homes) times a
  seeded "problem premises" factor for venues. The hotspot beats (Cathays, the city centre,
  and Butetown, the bay: ``world.HOTSPOT_NAMES``) have every rate multiplied by 2.5 (homes
  1.6). A home is a uniform point in a residential piece (LSOA cut by beat), not a place.
* When: Poisson counts per setting, beat, day and hour; a day-of-week by hour profile per
  setting puts Friday and Saturday 22:00-04:00 far above the rest for the night-time
  economy and keeps home violence flatter; seasonality is mild (about +10% in December).
  The rising beat (Ely, ``world.RISING_NAME``) runs at 2.5 times its rate from the Monday
  about two thirds through the period to the end.
* Who and how: weapon by setting (glass in licensed premises, knives more in the street,
  body most common), injury by weapon, victims aged 18-34 in the night-time economy,
  about 80% male in public and mostly female at home, relationship by setting (partners
  at home, strangers in town), number of assailants, admission by injury.
* Recording: ambulance by injury; ED by injury (almost certain after an ambulance, more
  likely for drinkers in town, less for violence at home) at one of three departments
  chosen by distance; police with lower reporting by men aged 18-34 and after assaults by
  strangers, so about 59% of ED attendances are unknown to the police (Gray et al. 2017).

Extracts: one file per month per source under ``out_dir`` (layouts in ``layouts``):
``ed/uhw`` (CSV with BOM, identifiers in columns), ``ed/llandough`` (semicolon, cp1252,
codes that change to words half way), ``ed/cri`` (XLSX with Excel dates), ``ambulance/was``
(jittered pick-up points) and ``police/swp`` (points snapped to police.uk map points).
About 0.5% of rows carry a planted error. ``truth.parquet`` holds one row per record: its
file and row, the true event, place and beat, the place its text names, the noise applied,
the identifiers planted and any planted error.
"""

from cardiffmodel.synth.city import CityManifest, generate_city

__all__ = ["CityManifest", "generate_city"]
