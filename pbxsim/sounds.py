"""Which sound file Asterisk plays for a name given relative to the channel's language.

Asterisk (``main/file.c``, ``fileexists_core``) tries, in order: ``<sounds>/LANG/name`` with the channel's
language exactly as set (``zh_anonymous``), then the language without its ``_variant`` (``zh``), then no
language, then the default language. The hotline relies on that: callers without a number wait with the
language ``<set>_anonymous``, whose directory holds only the sounds that must differ for them (the
callback offer), everything else comes from ``<set>``.

The simulator plays no audio, so it only needs to know which variant files exist: it looks in
``directory`` (Asterisk's sounds directory, where the service installs its prompts) when it has one.
Without a directory, or for a sound not found in the variant's directory, the name is recorded in the
base language, as Asterisk would play it from there.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["Sounds"]

# the formats the service installs prompts in (recordings/prompts.py) and Asterisk can play
_FORMATS = (".wav", ".ulaw", ".alaw", ".gsm", ".sln")


class Sounds:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory

    def lookup(self, language: str, name: str) -> str:
        """``LANG/name`` as Asterisk would find it for a channel of ``language`` (``name`` alone without
        a language)."""
        if not language:
            return name
        base, sep, _variant = language.partition("_")
        if sep and not self._exists(language, name):
            return f"{base}/{name}"
        return f"{language}/{name}"

    def _exists(self, language: str, name: str) -> bool:
        if self.directory is None:
            return False
        folder = self.directory / language
        return any((folder / f"{name}{ext}").is_file() for ext in _FORMATS)
