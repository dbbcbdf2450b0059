from django.urls import path

from console.pipelines import runs

app_name = "runs"
urlpatterns = [path("", runs.run_list, name="list")]
