from django.urls import path

from console.datasets import api, policies

urlpatterns = [
    path("datasets/", api.DatasetListCreate.as_view(), name="api-datasets"),
    path("datasets/<int:pk>/", api.DatasetDetail.as_view(), name="api-dataset"),
    path("datasets/<int:pk>/preview/", api.DatasetPreview.as_view(), name="api-dataset-preview"),
    path(
        "datasets/<int:pk>/role-suggestions/",
        api.DatasetRoleSuggestions.as_view(),
        name="api-dataset-role-suggestions",
    ),
    path("authorizations/", api.AuthorizationListCreate.as_view(), name="api-authorizations"),
    path("authorizations/<int:pk>/", api.AuthorizationDetail.as_view(), name="api-authorization"),
    path(
        "authorizations/<int:pk>/revoke/",
        api.AuthorizationRevoke.as_view(),
        name="api-authorization-revoke",
    ),
    path(
        "authorizations/<int:pk>/policy/",
        policies.AuthorizationPolicy.as_view(),
        name="api-authorization-policy",
    ),
    path(
        "authorizations/<int:pk>/versions/",
        api.AuthorizationVersions.as_view(),
        name="api-authorization-versions",
    ),
]
