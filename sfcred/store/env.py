"""CI mode's store: the one profile and key come from the environment
(``sfcred.profiles.env``), and nothing is ever written."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sfcred.errors import ConfigError

if TYPE_CHECKING:
    from sfcred.keys import KeyMaterial
    from sfcred.profiles.env import EnvProfile
    from sfcred.profiles.record import Profile


class EnvStore:
    """CI mode's ``store.base.Store``: the one profile and key come from the environment, and
    nothing is ever written (no keyring at all)."""

    def __init__(self, env: EnvProfile) -> None:
        self.env = env

    def get_profile(self, name: str) -> Profile | None:
        return self.env.profile if name == self.env.name else None

    def require_profile(self, name: str) -> Profile:
        if name != self.env.name:
            raise ConfigError(f"no profile named {name!r} in CI mode")
        return self.env.profile

    def profile_names(self) -> list[str] | None:
        return [self.env.name]

    def get_key(self, name: str, kid: str) -> KeyMaterial:
        return self.env.key()

    def put_profile(self, profile: Profile) -> None:
        raise _keeps_nothing()

    def delete_profile(self, name: str) -> None:
        raise _keeps_nothing()

    def put_key(self, name: str, material: KeyMaterial) -> str:
        raise _keeps_nothing()

    def delete_key(self, name: str, kid: str) -> None:
        raise _keeps_nothing()

    def cache_key(self) -> bytes:
        raise _keeps_nothing()  # CI mode caches only on a memory file system, unsealed

    def fleet(self) -> None:
        return None

    def backend_name(self) -> str:
        return "none (CI mode: the profile and key come from the environment)"


def _keeps_nothing() -> ConfigError:
    return ConfigError("CI mode keeps nothing: its profile and key come from the environment")
