"""/api/v1/ routes of workflows (included by console/api/urls.py)."""

from django.urls import path

from workflows.api import approvals, views

app_name = "workflows-api"

urlpatterns = [
    path("components/", views.ComponentCatalogue.as_view(), name="components"),
    path("pipeline-templates/", views.PipelineTemplates.as_view(), name="pipeline-templates"),
    path("pipelines/", views.PipelineListCreate.as_view(), name="pipelines"),
    path("pipelines/import/", views.PipelineImport.as_view(), name="pipeline-import"),
    path("pipelines/<int:pk>/", views.PipelineDetail.as_view(), name="pipeline"),
    path("pipelines/<int:pk>/editors/", views.PipelineEditors.as_view(), name="pipeline-editors"),
    path("pipelines/<int:pk>/export/", views.PipelineExport.as_view(), name="pipeline-export"),
    path(
        "pipelines/<int:pk>/validate/", views.PipelineValidate.as_view(), name="pipeline-validate"
    ),
    path("pipelines/<int:pk>/runs/", views.PipelineRuns.as_view(), name="pipeline-runs"),
    path("runs/", views.RunList.as_view(), name="runs"),
    path("runs/<int:pk>/", views.RunDetail.as_view(), name="run"),
    path("runs/<int:pk>/ledger/", views.RunLedger.as_view(), name="run-ledger"),
    path("approvals/", approvals.ApprovalList.as_view(), name="approvals"),
    path("approvals/<int:pk>/", approvals.ApprovalDetail.as_view(), name="approval"),
    path("runs/<int:pk>/nodes/<str:node>/", views.RunNodeResult.as_view(), name="run-node"),
    path("runs/<int:pk>/cancel/", views.RunCancel.as_view(), name="run-cancel"),
    path("runs/<int:pk>/report/", views.RunReport.as_view(), name="run-report"),
    path("artifacts/<int:pk>/", views.ArtifactDetail.as_view(), name="artifact"),
    path(
        "artifacts/<int:pk>/download/", views.ArtifactDownload.as_view(), name="artifact-download"
    ),
    path("artifacts/<int:pk>/model.zip", views.ModelDownload.as_view(), name="artifact-model"),
]
