from django.urls import path

from console.accounts import api

urlpatterns = [
    path("me/", api.Me.as_view(), name="api-me"),
    path("tokens/", api.Tokens.as_view(), name="api-tokens"),
    path("tokens/<int:pk>/", api.TokenDetail.as_view(), name="api-token"),
    path("sessions/", api.Sessions.as_view(), name="api-sessions"),
    path("sessions/<int:pk>/", api.SessionDetail.as_view(), name="api-session"),
    path("users/", api.People.as_view(), name="api-users"),
    path("users/<int:pk>/", api.PersonDetail.as_view(), name="api-user"),
    path(
        "users/<int:pk>/reset-password/",
        api.PersonPasswordReset.as_view(),
        name="api-user-reset-password",
    ),
]
