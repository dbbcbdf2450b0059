from django.urls import path

from console.federation import api, dealer_api

urlpatterns = [
    path(
        "projects/<int:pk>/invitations/",
        api.ProjectInvitations.as_view(),
        name="api-project-invitations",
    ),
    path("projects/<int:pk>/removals/", api.ProjectRemovals.as_view(), name="api-project-removals"),
    path(
        "projects/<int:pk>/remote-datasets/",
        api.ProjectRemoteDatasets.as_view(),
        name="api-project-remote-datasets",
    ),
    path(
        "projects/<int:pk>/triple-source/",
        dealer_api.ProjectTripleSource.as_view(),
        name="api-project-triple-source",
    ),
    path("dealer-services/", dealer_api.DealerServices.as_view(), name="api-dealer-services"),
    path("ballots/", api.BallotList.as_view(), name="api-ballots"),
    path("ballots/<int:pk>/decision/", api.BallotDecision.as_view(), name="api-ballot-decision"),
]
