"""Upload handler placeholder replaced below by the datasets work."""

from django.core.files.uploadhandler import TemporaryFileUploadHandler


class NodeStorageUploadHandler(TemporaryFileUploadHandler):
    pass
