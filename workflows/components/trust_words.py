"""The threat-model line of a node that computes on SEMI2K secret shares, in the reader's language.

SEMI2K is secure against semi-honest parties only if its source of correlated randomness (the
Beaver triples) is trusted; where that source lives decides whom the parties must trust
(`core.device.spu_config`, scheme and proofs in `core.mpc.protocols.semi2k` and
`core.mpc.correlated`). A node that builds an SPU (`workflows.components.secure.make_spu`)
logs one line saying it, read in each reader's language:

- embedded (a simulation): the dealer is a thread of the console's own process, so every party
  trusts that process's operator, who could read everything anyway;
- a network run with a trusted first party (`TrustedFirstParty`): that party generates every
  triple, so it could recover every value that is multiplied, compared or truncated; the other
  parties trust it not to look, and coalitions without it learn nothing;
- a network run with a dealer node (`TrustedThirdParty`): a separate node generates the
  triples; it sees no input, share or result, and must collude with no party.
"""

from __future__ import annotations

import core
from workflows.components.checks import listed_words
from workflows.messages import Message, translatable


def threat_model(spu: core.SPU, what) -> Message:
    """The threat-model line of `what` computed on `spu` (a SEMI2K SPU)."""
    beaver, parties = spu.spec.beaver, listed_words(list(spu.parties))
    if spu.config.protocol != "SEMI2K":
        raise ValueError(f"no threat-model line for {spu.config.protocol}")
    if beaver.kind == "TrustedFirstParty":
        return translatable(
            "threat model of %(what)s: SEMI2K secret sharing among %(parties)s, semi-honest "
            "parties; %(party)s is the trusted first party: it generates every Beaver triple, "
            "so it could recover every value that is multiplied or compared, and the other "
            "parties trust it not to look (parties without it together learn nothing)",
            what=what,
            parties=parties,
            party=beaver.party,
        )
    if beaver.kind == "TrustedThirdParty":
        return translatable(
            "threat model of %(what)s: SEMI2K secret sharing among %(parties)s, semi-honest "
            "parties; the Beaver triples come from the dealer node %(dealer)s, which sees no "
            "input, share or result and must collude with no party",
            what=what,
            parties=parties,
            dealer=beaver.party,
        )
    if not spu.cluster.simulation:  # a deployment refuses an SPU without a source
        raise ValueError("a deployed SEMI2K SPU has a beaver_type")
    return translatable(
        "threat model of %(what)s: SEMI2K secret sharing among %(parties)s, semi-honest "
        "parties; the Beaver triples come from a dealer inside this console's own process, "
        "so every party trusts the console's operator (embedded deployment)",
        what=what,
        parties=parties,
    )
