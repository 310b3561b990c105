"""Models that refuse a key they do not know, naming the closest one they know."""

from __future__ import annotations

import difflib
from typing import Any, ClassVar

from pydantic import BaseModel, model_validator


class KnownKeysOnly(BaseModel):
    """A model that refuses a key it does not know, naming the closest one it knows.

    pydantic's own ``extra="forbid"`` says only "Extra inputs are not permitted"; a misspelt key
    (``multple_exposures``) deserves the spelling it missed, in a file and in a Python call alike.
    """

    #: What the keys belong to, for the message ("unknown metric key ...").
    keys_of: ClassVar[str] = "model"

    @model_validator(mode="before")
    @classmethod
    def _known_keys_only(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        known = list(cls.model_fields)
        unknown = [key for key in data if key not in known]
        if unknown:
            raise ValueError(unknown_keys_message(cls.keys_of, [str(key) for key in unknown], known))
        return data


def unknown_keys_message(keys_of: str, unknown: list[str], known: list[str]) -> str:
    """``unknown metric key 'minimum_efect' (did you mean 'minimum_effect'?)``; when a key is like
    none of them, the known keys are listed."""
    described, unlike = [], False
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=1)
        described.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
        unlike = unlike or not close
    message = f"unknown {keys_of} key{'s' if len(unknown) > 1 else ''} {', '.join(described)}"
    return f"{message}; the {keys_of} keys are {', '.join(known)}" if unlike else message
