"""/api/v1/me/ (who am I) and /api/v1/tokens/ (create or rotate my API token)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from console.accounts.serializers import MeSerializer, TokenSerializer
from console.accounts.services import create_token
from console.accounts.sessions import RecentAuthentication
from console.api.schema import errors


class Me(APIView):
    @extend_schema(
        summary="The signed-in user, their node and role", responses={200: MeSerializer, **errors()}
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class Tokens(APIView):
    permission_classes = [IsAuthenticated, RecentAuthentication]

    @extend_schema(
        summary="Create or rotate my API token (returned once)",
        request=None,
        responses={201: TokenSerializer, **errors()},
    )
    def post(self, request: Request) -> Response:
        key = create_token(request, request.user)
        body = TokenSerializer({"username": request.user.get_username(), "token": key}).data
        return Response(body, status=status.HTTP_201_CREATED)
