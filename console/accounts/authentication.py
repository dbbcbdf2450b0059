"""Who may authenticate: active users of nodes that are not disabled, by password or token.

- `ClientLockoutBackend` (first in AUTHENTICATION_BACKENDS) refuses a locked-out client.
- `NodeAwareBackend` is Django's ModelBackend with one more rule: a user whose node is disabled
  cannot authenticate. Django re-checks the same rule (`user_can_authenticate`) when it loads
  the user of an open session on every request (pages and websockets), so disabling a node
  ends its users' sessions at their next request: they can no longer upload, run or read.
- `LockoutTokenAuthentication` is PrivPad's token scheme (`console.accounts.tokens`: hashed,
  scoped, expiring tokens of active users of nodes that are not disabled) with sign-in
  throttling: each bad token counts as a failed sign-in of the client (django-axes,
  per address), and once `AXES_FAILURE_LIMIT` are reached the client gets 429 with the wait
  until the cool-off ends, even for a good token.
- `LanguageTokenAuthentication` is `LockoutTokenAuthentication` that also applies the user's
  saved language. Token-authenticated API requests are only authenticated inside DRF's view,
  after every middleware ran, so `UserLanguageMiddleware` cannot see their user: this class
  applies the preference once the token names the user (messages and the component catalogue
  then answer in that language, as the pages do).
"""

from __future__ import annotations

from axes.backends import AxesStandaloneBackend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_login_failed
from django.utils import translation
from rest_framework import exceptions
from rest_framework.authentication import get_authorization_header

from console.accounts.lockout import TOKEN_CREDENTIALS, is_locked_out, locked_out_message, wait_of
from console.accounts.tokens import ApiTokenAuthentication, node_is_disabled


class ClientLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, for sign-ins that come from a client (a request).

    Code on the server (`manage.py shell`, scripts) calls `authenticate()` without a request:
    there is no client address to throttle, and axes would refuse the call outright.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username, password, **kwargs)


class NodeAwareBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not node_is_disabled(user)

    def get_user(self, user_id):
        # One query for the user and its node: the node rule runs on every request.
        from django.contrib.auth import get_user_model

        users = get_user_model()._default_manager.select_related("node")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class LockoutTokenAuthentication(ApiTokenAuthentication):
    def authenticate(self, request):
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        django_request = request._request
        if is_locked_out(django_request, TOKEN_CREDENTIALS):
            raise self._throttled(django_request)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            user_login_failed.send(
                sender=type(self), credentials=dict(TOKEN_CREDENTIALS), request=django_request
            )
            if is_locked_out(django_request, TOKEN_CREDENTIALS):
                raise self._throttled(django_request) from None
            raise

    def _throttled(self, request) -> exceptions.Throttled:
        wait = wait_of(request, TOKEN_CREDENTIALS)
        return exceptions.Throttled(wait=wait, detail=locked_out_message(wait, tokens=True))


class LanguageTokenAuthentication(LockoutTokenAuthentication):
    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and getattr(result[0], "language", ""):
            translation.activate(result[0].language)
            request._request.LANGUAGE_CODE = translation.get_language()
        return result
