"""Msgids that runs and disclosure plans stored before their wording changed, kept so those
runs and plans still read in every reader's language.

A stored message is its English msgid (`workflows.messages`): when a writer moves to new
words (here: "column(s)" became a real plural with `translatable_plural`), the messages
already stored on past runs keep the old msgid, and only the catalogue can still word them.
`makemessages` keeps a catalogue entry only while some source marks its msgid, so the old
msgids are marked here. Nothing imports this module; a msgid leaves this list only together
with a data migration that rewrites the stored messages using it.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

PAST_MSGIDS = (
    gettext_noop("%(party)s: filled %(count)s column(s)"),
    gettext_noop("%(party)s: binned %(count)s column(s) (%(method)s)"),
    gettext_noop("scaled %(count)s column(s) (%(method)s)"),
    gettext_noop("trained %(epochs)s epoch(s); last loss %(loss)s"),
    gettext_noop("statistics of %(count)s column(s)"),
    gettext_noop("pick at least %(count)s column(s)"),
    gettext_noop("pick at most %(count)s column(s)"),
    gettext_noop(
        "failed at %(component)s (%(node)s): %(reason)s%(where)s; %(count)s other "
        "node(s) failed too: %(nodes)s"
    ),
    # Disclosure plans stored with approvals and ledgers before the words named everything
    # the other parties' copies hold (plans are rendered with `_(entry["what"])`).
    gettext_noop("AUC, KS, F1 and aggregated curves"),
    gettext_noop("R2, MAE, MSE and RMSE"),
    gettext_noop("a secret share of the model and its manifest (loss per epoch)"),
)
# Log lines with a plural form (read with `ngettext`), kept the same way.
PAST_PLURAL_MSGIDS = (
    # Until the loss per epoch went to the label holder alone (`ml.train/ss_lr`).
    ngettext_lazy(
        "trained %(epochs)s epoch; last loss %(loss)s",
        "trained %(epochs)s epochs; last loss %(loss)s",
        "epochs",
    ),
)
