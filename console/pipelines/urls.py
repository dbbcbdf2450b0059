from django.urls import path

from console.pipelines import views

app_name = "pipelines"
urlpatterns = [
    path("new/<int:project>/", views.create, name="create"),
    path("<int:pk>/", views.canvas, name="canvas"),
    path("<int:pk>/editors/", views.editors, name="editors"),
    path("runs/<int:pk>/", views.run_view, name="run"),
]
