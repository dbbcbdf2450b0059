"""Password login that also refuses users whose node a platform admin disabled."""

from django.contrib.auth.backends import ModelBackend

from console.accounts.tokens import node_is_disabled


class NodeAwareModelBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        # Also consulted on every request for session users: disabling a node signs them out.
        return super().user_can_authenticate(user) and not node_is_disabled(user)
