"""The local stack's generated secrets are usable where they go."""

from __future__ import annotations

from devstack.stack import new_admin_password


def test_the_admin_password_is_never_read_as_a_command_line_option() -> None:
    # `medusa user -p PASSWORD`: a value starting with "-" would be taken for an option.
    passwords = [new_admin_password() for _ in range(2000)]
    assert not [password for password in passwords if password.startswith("-")]
    assert len(set(passwords)) == len(passwords)
