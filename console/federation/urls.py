from django.urls import path

from console.federation import views

app_name = "federation"
urlpatterns = [
    path("projects/<int:pk>/invite/", views.invite, name="invite"),
    path("projects/<int:pk>/remove/<int:node_id>/", views.propose_removal, name="propose_removal"),
    path("ballots/<int:pk>/", views.decide, name="decide"),
]
