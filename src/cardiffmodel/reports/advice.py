"""The advice rule set: each kind of finding maps to evidence-based actions with references.

The rules are data, so they can be read, reviewed and documented (docs/reports.md lists
them); :func:`advise` attaches actions to findings and to nothing else, so every piece of
advice in a report names the finding that triggered it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from types import MappingProxyType

from cardiffmodel.reports.findings import Finding, join_names

REFERENCES: Mapping[str, str] = MappingProxyType(
    {
        "florence2011": (
            "Florence C, Shepherd J, Brennan I, Simon T. Effectiveness of anonymised "
            "information sharing and use in health service, police, and local government "
            "partnership for preventing violence related injury: experimental study and time "
            "series analysis. BMJ 2011;342:d3313."
        ),
        "cdc2017": (
            "Centers for Disease Control and Prevention. The Cardiff Model Toolkit: Community "
            "Guidance for Violence Prevention. Atlanta, GA: CDC; 2017."
        ),
        "istv": (
            "NHS Digital. Information Sharing to Tackle Violence: Minimum Dataset (ISB/DCB 1594)."
        ),
        "sherman1995": (
            "Sherman LW, Weisburd D. General deterrent effects of police patrol in crime "
            '"hot spots": a randomized, controlled trial. Justice Quarterly '
            "1995;12(4):625-648."
        ),
        "koper1995": (
            "Koper CS. Just enough police presence: reducing crime and disorderly behavior by "
            "optimizing patrol time in crime hot spots. Justice Quarterly 1995;12(4):649-672."
        ),
        "braga2019": (
            "Braga AA, Turchan B, Papachristos AV, Hureau DM. Hot spots policing of small "
            "geographic areas effects on crime. Campbell Systematic Reviews 2019;15(3):e1046."
        ),
        "licensing2003": (
            "Licensing Act 2003, sections 51-53 (application for and determination of a "
            "review of a premises licence)."
        ),
        "shepherd1993": (
            "Shepherd JP, Huggett RH, Kidner G. Impact resistance of bar glasses. Journal of "
            "Trauma 1993;35(6):936-938."
        ),
        "warburton2000": (
            "Warburton AL, Shepherd JP. Effectiveness of toughened glassware in terms of "
            "reducing injury in bars: a randomised controlled trial. Injury Prevention "
            "2000;6(1):36-40."
        ),
        "forsyth2008": (
            "Forsyth AJM. Banning glassware from nightclubs in Glasgow (Scotland): observed "
            "impacts, compliance and patron's views. Alcohol and Alcoholism "
            "2008;43(1):111-117."
        ),
        "nice2014": (
            "National Institute for Health and Care Excellence. Domestic violence and abuse: "
            "multi-agency working. Public health guideline PH50. London: NICE; 2014."
        ),
        "feder2011": (
            "Feder G, Davies RA, Baird K, et al. Identification and Referral to Improve Safety "
            "(IRIS) of women experiencing domestic violence with a primary care training and "
            "support programme: a cluster randomised controlled trial. Lancet "
            "2011;378(9805):1788-1795."
        ),
        "purtle2013": (
            "Purtle J, Dicker R, Cooper C, et al. Hospital-based violence intervention "
            "programs save lives and money. Journal of Trauma and Acute Care Surgery "
            "2013;75(2):331-333."
        ),
        "braga2018": (
            "Braga AA, Weisburd D, Turchan B. Focused deterrence strategies and crime control: "
            "an updated systematic review and meta-analysis of the empirical evidence. "
            "Criminology & Public Policy 2018;17(1):205-250."
        ),
        "weisburd2010": (
            "Weisburd D, Telep CW, Hinkle JC, Eck JE. Is problem-oriented policing effective "
            "in reducing crime and disorder? Findings from a Campbell systematic review. "
            "Criminology & Public Policy 2010;9(1):139-172."
        ),
        "piza2019": (
            "Piza EL, Welsh BC, Farrington DP, Thomas AL. CCTV surveillance for crime "
            "prevention: a 40-year systematic review with meta-analysis. Criminology & Public "
            "Policy 2019;18(1):135-159."
        ),
    }
)


@dataclass(frozen=True)
class Action:
    """One recommended action.

    Attributes
    ----------
    lead : str
        Who usually acts (police, licensing, health, the partnership).
    text : str
        What to do; ``{places}`` is replaced by the places the finding names.
    references : tuple of str
        Keys of ``REFERENCES`` giving the evidence.
    cites : str
        The report section the text points the reader to (``"grid"``: the hour-by-day
        grid), or "" for none.
    otherwise : str
        The text to give instead when that section is not in the report (its sources
        hold no time of day, say): advice never points to an absent table.
    """

    lead: str
    text: str
    references: tuple[str, ...]
    cites: str = ""
    otherwise: str = ""


@dataclass(frozen=True)
class Advice:
    """Actions for one finding, in the order a meeting would take them."""

    finding: Finding
    actions: tuple[Action, ...]


RULES: Mapping[str, tuple[Action, ...]] = MappingProxyType(
    {
        "night_time_economy": (
            Action(
                "Police",
                "Direct patrols to {places} on Friday and Saturday nights from 20:00 to 04:00, "
                "with short, repeated visits to the busiest streets and venues rather than "
                "long stays.",
                ("sherman1995", "koper1995", "braga2019"),
            ),
            Action(
                "Licensing authority",
                "Review the licensed premises named here with their licence holders; repeated "
                "incidents at a venue can support a review of its premises licence.",
                ("florence2011", "licensing2003"),
            ),
            Action(
                "Licensing authority and venues",
                "Ask late-night venues to serve drinks in polycarbonate or toughened glassware.",
                ("shepherd1993", "forsyth2008"),
            ),
        ),
        "glass_injuries": (
            Action(
                "Licensing authority and venues",
                "Replace annealed glassware with polycarbonate (or toughened glass) in the "
                "busiest venues, especially in {places}, and keep glasses and bottles from "
                "being taken outside.",
                ("shepherd1993", "warburton2000", "forsyth2008"),
            ),
        ),
        "knife_injuries": (
            Action(
                "Health and partnership",
                "Offer a hospital-based violence intervention: youth or support workers who "
                "see people injured by knives in the Emergency Department and work with them "
                "afterwards.",
                ("purtle2013",),
            ),
            Action(
                "Police and partnership",
                "Consider focused deterrence with the groups involved: a direct message, "
                "support to leave violence, and enforcement for those who continue.",
                ("braga2018",),
            ),
        ),
        "domestic": (
            Action(
                "Health",
                "Check that the Emergency Department asks about domestic abuse and refers to "
                "specialist services: a hospital-based independent domestic violence adviser "
                "and, for high-risk cases, the local MARAC.",
                ("nice2014", "feder2011"),
            ),
        ),
        "hotspot": (
            Action(
                "Police and partnership",
                "Concentrate patrols and problem-solving on {places}, at the hours the grid "
                "above shows most incidents.",
                ("braga2019", "weisburd2010"),
                cites="grid",
                otherwise="Concentrate patrols and problem-solving on {places}, at the hours "
                "officers and partners know to be busiest there (the sources held for this "
                "period record no time of day).",
            ),
            Action(
                "Council",
                "Check CCTV coverage of {places}; CCTV works best in city centres and car "
                "parks, together with other measures.",
                ("piza2019",),
            ),
        ),
        "rise": (
            Action(
                "Partnership",
                "Look at {places} at the next meeting: check for a new or changed venue, an "
                "event or a change in recording before choosing a response.",
                ("weisburd2010",),
            ),
        ),
        "hidden_violence": (
            Action(
                "Police and partnership",
                "Use the Emergency Department figures for {places} in police tasking: much "
                "of the violence there is not reported to the police.",
                ("florence2011", "cdc2017"),
            ),
        ),
        "location_quality": (
            Action(
                "Health",
                "Feed back to Emergency Department reception staff: record the precise place "
                "of each assault (venue name, or street and nearest landmark), as the ISTV "
                "standard asks.",
                ("istv", "cdc2017"),
            ),
        ),
    }
)


def advise(findings: Sequence[Finding], sections: Set[str]) -> tuple[Advice, ...]:
    """The actions for each finding, with ``{places}`` filled in from the finding.

    ``sections`` are the report's optional sections present (``"grid"``); an action citing
    one that is absent gives its ``otherwise`` text.
    """
    advice = []
    for finding in findings:
        if finding.rule not in RULES:
            raise ValueError(f"finding rule {finding.rule!r} has no advice: expected {list(RULES)}")
        places = join_names(finding.places) if finding.places else "the beats named above"
        actions = tuple(
            Action(a.lead, _text(a, sections).format(places=places), a.references)
            for a in RULES[finding.rule]
        )
        advice.append(Advice(finding, actions))
    return tuple(advice)


def _text(action: Action, sections: Set[str]) -> str:
    if action.cites and action.cites not in sections:
        return action.otherwise
    return action.text


def cited(advice: Sequence[Advice]) -> tuple[tuple[str, str], ...]:
    """(key, citation) of every reference the advice uses, in order of first use."""
    keys = dict.fromkeys(ref for a in advice for action in a.actions for ref in action.references)
    return tuple((key, REFERENCES[key]) for key in keys)
