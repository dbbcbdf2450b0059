from django.urls import path

from console.federation import views

app_name = "federation"
urlpatterns = [
    path("projects/<int:pk>/invite/", views.invite, name="invite"),
    path("projects/<int:pk>/remove/<int:node_id>/", views.propose_removal, name="propose_removal"),
    path("ballots/<int:pk>/", views.decide, name="decide"),
    path("projects/<int:pk>/dealer/", views.choose_dealer, name="choose_dealer"),
    path("dealer-services/", views.dealer_services, name="dealer_services"),
]
