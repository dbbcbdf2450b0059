from django.urls import path

from console.accounts import api

urlpatterns = [
    path("me/", api.Me.as_view(), name="api-me"),
    path("tokens/", api.Tokens.as_view(), name="api-tokens"),
]
