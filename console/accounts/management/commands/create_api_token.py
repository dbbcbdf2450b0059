"""`manage.py create_api_token USER [--name N] [--scope read|run|admin] [--expires-days D]`."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from console.accounts.models import ApiToken, User
from console.accounts.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS, create_token
from workflows.actors import Actor

# An operator on the server: audited as the token's owner, via "command".
OPERATOR = Actor.system("manage.py create_api_token")


class Command(BaseCommand):
    help = (
        "Create an API token for a user and print its key (shown once: only a digest is "
        "stored). Earlier tokens keep working until they expire or are revoked."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="Command-line token", help="What will use it.")
        parser.add_argument(
            "--scope",
            default=ApiToken.Scope.ADMIN,
            choices=ApiToken.Scope.values,
            help="read: GET only; run: also start and stop runs; admin (default): everything.",
        )
        parser.add_argument(
            "--expires-days",
            type=int,
            default=DEFAULT_EXPIRY_DAYS,
            help=f"Lifetime in days, 1 to {MAX_EXPIRY_DAYS} (default {DEFAULT_EXPIRY_DAYS}).",
        )

    def handle(self, *args, username: str, name: str, scope: str, expires_days: int, **options):
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named '{username}'.")
        if not user.is_active:
            raise CommandError(f"User '{username}' is inactive; activate them first.")
        try:
            _token, key = create_token(OPERATOR, user, name, scope, expires_days)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(key)
