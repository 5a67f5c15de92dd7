"""People and integrations: users, password and badge log-in, API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wms.db.schema import ApiToken, User
from wms.errors import Conflict, InvalidInput
from wms.model import LANGUAGES, Role

# scrypt parameters (RFC 7914 interactive-login strength): ~16 MiB and ~50 ms per check.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD_LENGTH = 8
TOUCH_EVERY = dt.timedelta(minutes=1)


def hash_password(password: str) -> str:
    """A salted scrypt hash of ``password`` in a self-describing string."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(stored: str | None, password: str) -> bool:
    """Tell whether ``password`` matches a hash made by :func:`hash_password`."""
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(candidate.hex(), digest)


@dataclass(frozen=True, slots=True)
class NewUser:
    """What is needed to create a user."""

    username: str
    display_name: str
    role: Role
    password: str | None = None
    badge: str | None = None
    language: str = "en"


def create_user(session: Session, new: NewUser) -> User:
    """Create a user; a username or badge already in use is a :class:`Conflict`."""
    if not new.username.strip():
        raise InvalidInput("a user needs a username", field="username")
    if new.language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="language")
    if new.password is not None and len(new.password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )
    if session.scalar(select(User.id).where(User.username == new.username)) is not None:
        raise Conflict(f"user {new.username} already exists", username=new.username)
    if new.badge and session.scalar(select(User.id).where(User.badge == new.badge)) is not None:
        raise Conflict(f"badge {new.badge} is already given to another user", badge=new.badge)
    user = User(
        username=new.username,
        display_name=new.display_name,
        role=new.role,
        password_hash=hash_password(new.password) if new.password else None,
        badge=new.badge or None,
        language=new.language,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this username and password, or None."""
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None:
        # Spend the same time as a real check, so a wrong username is not faster to spot.
        check_password(_DUMMY_HASH, password)
        return None
    return user if check_password(user.password_hash, password) else None


def authenticate_badge(session: Session, badge: str) -> User | None:
    """The active user whose badge barcode this is, or None."""
    return session.scalar(select(User).where(User.badge == badge.strip(), User.active.is_(True)))


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(session: Session, user: User, name: str) -> str:
    """Issue a bearer token for ``user``; the clear token is returned once and never stored."""
    token = "wms_" + secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, name=name, token_hash=_token_digest(token)))
    session.flush()
    return token


def user_for_token(session: Session, token: str) -> User | None:
    """The active user a bearer token belongs to, or None if unknown or revoked."""
    api_token = session.scalar(
        select(ApiToken).where(
            ApiToken.token_hash == _token_digest(token), ApiToken.revoked.is_(False)
        )
    )
    if api_token is None or not api_token.user.active:
        return None
    now = dt.datetime.now(dt.UTC)
    last = api_token.last_used_at
    # Record use at most once a minute, so that API reads do not each become a write.
    if last is None or now - (last if last.tzinfo else last.replace(tzinfo=dt.UTC)) > TOUCH_EVERY:
        api_token.last_used_at = now
    return api_token.user


_DUMMY_HASH = hash_password("not-a-real-password")
