"""`{{ stored|message }}`: a stored message (`workflows.messages`) in the reader's language.

For columns that keep a message as msgid and params (a run's message, a peer's refusal kept
as a last error); plain text, as older rows hold, is shown as it is.
"""

from django import template

from workflows.messages import render

register = template.Library()


@register.filter(name="message")
def message(stored) -> str:
    return render(stored)
