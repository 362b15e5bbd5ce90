"""slack-sdk's SQLAlchemy installation store with every token encrypted at rest.

Bot and user tokens (and their refresh tokens) are Fernet-encrypted with CLARITYBOT_SECRET_KEY
like Clarity tokens, so several keys rotate them too. A row written in clear by an older
claritybot is still read (Slack tokens start `xox`), and encrypted at the next save.
"""

from __future__ import annotations

import copy
import logging
from typing import Final, TypeVar

from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from sqlalchemy import Engine

from store.crypto import TokenCipher

log = logging.getLogger(__name__)
# The fields of Installation and Bot that hold a secret; each is encrypted on its own.
SECRET_FIELDS: Final = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")
_CLEAR_PREFIXES: Final = ("xox", "xapp-")

T = TypeVar("T", Bot, Installation)


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """Encrypts tokens before slack-sdk writes them and decrypts them after it reads them."""

    def __init__(self, *, client_id: str, engine: Engine, cipher: TokenCipher) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=log)
        self.cipher = cipher

    def save(self, installation: Installation) -> None:
        """Save an installation (and its bot) with every token encrypted."""
        super().save(self._seal(installation))

    def save_bot(self, bot: Bot) -> None:
        """Save a bot with its tokens encrypted (save() calls this with sealed tokens)."""
        super().save_bot(bot if _sealed(bot) else self._seal(bot))

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        """The bot with its tokens readable."""
        found = super().find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if found is None else self._open(found)

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The installation with its tokens readable."""
        found = super().find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return None if found is None else self._open(found)

    def _seal(self, item: T) -> T:
        sealed = copy.copy(item)  # the caller's object keeps its readable tokens
        for name in SECRET_FIELDS:
            value = getattr(sealed, name, None)
            if value and _is_clear(value):
                setattr(sealed, name, self.cipher.encrypt(value))
        return sealed

    def _open(self, item: T) -> T:
        for name in SECRET_FIELDS:
            value = getattr(item, name, None)
            if value and not _is_clear(value):
                setattr(item, name, self.cipher.decrypt(value))
        return item


def _is_clear(value: str) -> bool:
    """True for a token as Slack issues it (ours are Fernet tokens, which start `gAAAA`)."""
    return value.startswith(_CLEAR_PREFIXES)


def _sealed(bot: Bot) -> bool:
    return not any(_is_clear(v) for v in (getattr(bot, n, None) for n in SECRET_FIELDS) if v)
