"""Learner secrets: passphrases and recovery codes, kept only as salted scrypt hashes.

A learner proves who they are with a short passphrase they chose, or with the recovery code the
app issued when the name was first used. Neither is ever stored: the database holds
``scrypt$N$r$p$salt$hash`` with a fresh 16-byte random salt per secret (``hashlib.scrypt``, the
standard library's memory-hard KDF), and checking compares digests in constant time
(``hmac.compare_digest``). The parameters are stored with each hash, so they can be raised later
without invalidating existing ones.

`AttemptThrottle` bounds online guessing: after `MAX_FAILURES` wrong secrets for one learner
within `WINDOW_S` seconds, further tries for that learner are refused until the window passes.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import unicodedata
from collections import OrderedDict, deque

PASSPHRASE_MIN = 6
PASSPHRASE_MAX = 128
# scrypt cost: N=2**14, r=8 uses 128*N*r = 16 MiB and ~50 ms of one core per check.
SCRYPT_N, SCRYPT_R, SCRYPT_P, DKLEN = 2**14, 8, 1, 32
SALT_BYTES = 16
# Crockford's base 32: no I, L, O or U, so a code read aloud or copied by hand survives.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 12 symbols x 5 bits = 60 bits of entropy
_CODE_FIXES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})

MAX_FAILURES = 5
WINDOW_S = 60.0


def normalize_passphrase(passphrase: str) -> str:
    """Unicode NFC with surrounding whitespace removed (what the learner meant to type)."""
    return unicodedata.normalize("NFC", str(passphrase)).strip()


def check_new_passphrase(passphrase: str, name: str = "") -> str:
    """The normalised passphrase, or ValueError saying what is wrong with it."""
    text = normalize_passphrase(passphrase)
    if len(text) < PASSPHRASE_MIN:
        raise ValueError(f"A passphrase needs at least {PASSPHRASE_MIN} characters.")
    if len(text) > PASSPHRASE_MAX:
        raise ValueError(f"A passphrase has at most {PASSPHRASE_MAX} characters.")
    if name and text.casefold() == " ".join(name.split()).casefold():
        raise ValueError("The passphrase cannot be your display name.")
    return text


def _kdf(secret: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=dklen,
                          maxmem=256 * n * r + 1024 * 1024)


def hash_secret(secret: str) -> str:
    """``scrypt$N$r$p$salt_hex$hash_hex`` for ``secret`` with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _kdf(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, DKLEN)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Whether ``secret`` hashes to ``stored`` (constant-time compare; False for junk)."""
    if not stored:
        return False
    try:
        kind, n, r, p, salt_hex, digest_hex = stored.split("$")
        if kind != "scrypt":
            return False
        expected = bytes.fromhex(digest_hex)
        got = _kdf(secret, bytes.fromhex(salt_hex), int(n), int(r), int(p), len(expected))
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, expected)


def new_recovery_code() -> str:
    """A random recovery code shown as ``XXXX-XXXX-XXXX`` (60 bits from `secrets`)."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def normalize_recovery_code(text: str) -> str | None:
    """The code's 12 symbols (case, spaces, dashes and look-alikes forgiven), else None."""
    raw = "".join(ch for ch in str(text).upper() if ch.isalnum()).translate(_CODE_FIXES)
    if len(raw) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in raw):
        return None
    return raw


class TooManyAttemptsError(Exception):
    """Too many wrong secrets for one learner recently; ``wait_s`` says for how long."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"Too many wrong passphrases for this name; try again in "
                         f"{max(1, round(wait_s))} s.")
        self.wait_s = wait_s


class AttemptThrottle:
    """Counts wrong secrets per key (in this process) and refuses guessing bursts.

    Bounded: at most ``max_keys`` keys are tracked (the least recently failed are forgotten).
    """

    def __init__(self, max_failures: int = MAX_FAILURES, window_s: float = WINDOW_S,
                 max_keys: int = 10_000, clock=time.monotonic) -> None:
        self.max_failures, self.window_s, self.max_keys = max_failures, window_s, max_keys
        self._clock = clock
        self._failures: OrderedDict[object, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, key: object) -> None:
        """Raise `TooManyAttemptsError` when ``key`` has used up its tries in the window."""
        now = self._clock()
        with self._lock:
            recent = self._failures.get(key)
            if recent is None:
                return
            while recent and now - recent[0] >= self.window_s:
                recent.popleft()
            if len(recent) >= self.max_failures:
                raise TooManyAttemptsError(self.window_s - (now - recent[0]))

    def failed(self, key: object) -> None:
        with self._lock:
            recent = self._failures.pop(key, None) or deque()
            recent.append(self._clock())
            self._failures[key] = recent
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, key: object) -> None:
        with self._lock:
            self._failures.pop(key, None)
