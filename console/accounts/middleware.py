"""Apply a signed-in user's saved language (English or Simplified Chinese) to every request.

Django's LocaleMiddleware runs before authentication, so it can only use the session/cookie
or the browser's Accept-Language. Once the user is known, their saved preference
(`User.language`) wins, on every device they sign in from; an empty preference keeps what
LocaleMiddleware chose.
"""

from django.utils import translation


class UserLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        language = getattr(user, "language", "") if user is not None else ""
        if language and user.is_authenticated:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
