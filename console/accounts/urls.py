from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

from console.accounts import login_views, passkey_views, twofactor_views, views

app_name = "accounts"
urlpatterns = [
    path("login/", login_views.PasswordStepLoginView.as_view(), name="login"),
    path("login/code/", login_views.code_step, name="login-code"),
    path("login/passkey/options/", passkey_views.sign_in_options, name="login-passkey-options"),
    path("login/passkey/", passkey_views.sign_in, name="login-passkey"),
    path("reauth/", views.reauth, name="reauth"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.account, name="account"),
    path("sessions/<int:pk>/revoke/", views.session_revoke, name="session-revoke"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
    # The former single-token page: bookmarks land on the token list.
    path("token/", RedirectView.as_view(pattern_name="accounts:tokens"), name="token"),
    path("two-factor/", twofactor_views.two_factor, name="two-factor"),
    path("passkeys/options/", passkey_views.registration_options, name="passkey-options"),
    path("passkeys/", passkey_views.register, name="passkey-register"),
    path("passkeys/<int:pk>/remove/", passkey_views.remove, name="passkey-remove"),
    path("people/", views.people_list, name="people"),
    path("people/two-factor/", twofactor_views.node_requirement, name="node-two-factor"),
    path("people/<int:pk>/", views.person, name="person"),
    path("language/", views.set_language, name="set_language"),
]
