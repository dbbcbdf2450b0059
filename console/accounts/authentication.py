"""API token authentication that also applies the user's saved language.

Token-authenticated API requests are only authenticated inside DRF's view, after every
middleware ran, so `UserLanguageMiddleware` cannot see their user: this class checks the hashed,
scoped, expiring token as `ApiTokenAuthentication` does and then applies the preference once the
token names the user (messages and the component catalogue then answer in that language, as the
pages do).
"""

from django.utils import translation

from console.accounts.tokens import ApiTokenAuthentication


class LanguageTokenAuthentication(ApiTokenAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and getattr(result[0], "language", ""):
            translation.activate(result[0].language)
            request._request.LANGUAGE_CODE = translation.get_language()
        return result
