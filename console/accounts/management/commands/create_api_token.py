"""`manage.py create_api_token <username>`: print a new API token for a user (rotating any old)."""

from django.core.management.base import BaseCommand, CommandError

from console.accounts.models import User
from console.accounts.services import create_token


class Command(BaseCommand):
    help = "Create (or rotate) a user's API token and print it; any previous token stops working."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named '{username}'.")
        if not user.is_active:
            raise CommandError(f"User '{username}' is inactive; activate them first.")
        self.stdout.write(create_token(None, user))
