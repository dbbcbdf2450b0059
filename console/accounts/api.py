"""/api/v1/me/, my tokens and sessions, and /api/v1/users/ (a node's people, for its admins)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from console.accounts import login_sessions, people
from console.accounts.permissions import ManagesPeople, RoleAndScope
from console.accounts.serializers import (
    ApiTokenCreatedSerializer,
    ApiTokenCreateSerializer,
    ApiTokenSerializer,
    LoginSessionSerializer,
    MeSerializer,
    PasswordResetResultSerializer,
    PasswordResetSerializer,
    PersonCreatedSerializer,
    PersonCreateSerializer,
    PersonSerializer,
    PersonUpdateSerializer,
)
from console.accounts.services import create_token, revoke_token, tokens_of
from console.accounts.sessions import RecentAuthentication
from console.api.schema import errors
from workflows.actors import Actor


class Me(APIView):
    @extend_schema(
        summary="The signed-in user, their node and role", responses={200: MeSerializer, **errors()}
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class Tokens(APIView):
    own_account = True
    # Issuing a token from a browser session needs a recent password (hardening).
    permission_classes = [IsAuthenticated, RoleAndScope, RecentAuthentication]

    @extend_schema(
        summary="My API tokens (never their keys)",
        responses={200: ApiTokenSerializer(many=True), **errors()},
    )
    def get(self, request: Request) -> Response:
        return Response(ApiTokenSerializer(tokens_of(request.user), many=True).data)

    @extend_schema(
        summary="Create an API token (its key is returned once)",
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreatedSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = create_token(
            Actor.from_request(request), request.user, **serializer.validated_data
        )
        token.token = key
        return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenDetail(APIView):
    own_account = True

    @extend_schema(
        summary="Revoke one of my API tokens",
        responses={200: ApiTokenSerializer, **errors(400, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        token = tokens_of(request.user).filter(pk=pk).first()
        if token is None:
            raise Http404(_("No such token."))
        return Response(ApiTokenSerializer(revoke_token(Actor.from_request(request), token)).data)


class Sessions(APIView):
    own_account = True

    @extend_schema(
        summary="My signed-in browser sessions",
        responses={200: LoginSessionSerializer(many=True), **errors()},
    )
    def get(self, request: Request) -> Response:
        logins = login_sessions.sessions_of(request.user)
        context = {"request": request}
        return Response(LoginSessionSerializer(logins, many=True, context=context).data)


class SessionDetail(APIView):
    own_account = True

    @extend_schema(summary="Sign one of my sessions out", responses={204: None, **errors(404)})
    def delete(self, request: Request, pk: int) -> Response:
        login_sessions.revoke_session(request, pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


PEOPLE_PERMISSIONS = [IsAuthenticated, RoleAndScope, ManagesPeople]


class People(APIView):
    permission_classes = PEOPLE_PERMISSIONS

    @extend_schema(
        summary="Users I manage (node admins: their node's; platform admins: everybody)",
        responses={200: PersonSerializer(many=True), **errors(403)},
    )
    def get(self, request: Request) -> Response:
        return Response(PersonSerializer(people.people_for(request.user), many=True).data)

    @extend_schema(
        summary="Create a user (a generated password is returned once)",
        request=PersonCreateSerializer,
        responses={201: PersonCreatedSerializer, **errors(400, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = PersonCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person, password = people.create_person(request, **serializer.validated_data)
        person.initial_password = password
        return Response(PersonCreatedSerializer(person).data, status=status.HTTP_201_CREATED)


class PersonDetail(APIView):
    permission_classes = PEOPLE_PERMISSIONS

    @extend_schema(
        summary="One user I manage", responses={200: PersonSerializer, **errors(403, 404)}
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(PersonSerializer(people.get_person(request, pk)).data)

    @extend_schema(
        summary="Change a user's role or active state (deactivating signs them out)",
        request=PersonUpdateSerializer,
        responses={200: PersonSerializer, **errors(400, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        person = people.get_person(request, pk)
        serializer = PersonUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        person = people.update_person(request, person, **serializer.validated_data)
        return Response(PersonSerializer(person).data)


class PersonPasswordReset(APIView):
    permission_classes = PEOPLE_PERMISSIONS

    @extend_schema(
        summary="Reset a user's password (signs them out; a generated one is returned once)",
        request=PasswordResetSerializer,
        responses={200: PasswordResetResultSerializer, **errors(400, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        person = people.get_person(request, pk)
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new_password = people.reset_password(request, person, serializer.validated_data["password"])
        return Response({"new_password": new_password})
