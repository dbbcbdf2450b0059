"""`makemessages` that also extracts the msgids of `workflows.messages.translatable(...)` and
both forms of `translatable_plural(...)`.

Messages kept on runs are stored as their English msgid and rendered when read, in the
reader's language (`workflows.messages`); their msgids must reach the catalogue like any
gettext text. Django's documented way to add a keyword is this subclass.
"""

from django.core.management.commands.makemessages import Command as MakeMessages


class Command(MakeMessages):
    xgettext_options = [
        *MakeMessages.xgettext_options,
        "--keyword=translatable",
        "--keyword=translatable_plural:1,2",
    ]
