"""Personal data in the documents staff upload: found and told at upload, masked before
indexing when staff choose so. A business's own phone number in its FAQ is meant to be
answered with, so masking is staff's choice, not the default."""

from __future__ import annotations

from dataclasses import replace

from chatbot.privacy.masking import find_personal_data, mask, summarise
from knowledge.documents import LoadedDocument


class PersonalDataReview:
    def __init__(self, mask_it: bool) -> None:
        self.mask_it = mask_it
        self.tag = "masked" if mask_it else ""

    def __call__(self, loaded: LoadedDocument) -> tuple[LoadedDocument, str | None]:
        found = [f for block in loaded.blocks for f in find_personal_data(block.text)]
        if not found:
            return loaded, None
        summary = summarise(found)
        if not self.mask_it:
            return loaded, f"contains personal data ({summary}); not masked"
        blocks = [replace(block, text=mask(block.text)) for block in loaded.blocks]
        return replace(loaded, blocks=blocks), f"contained personal data ({summary}); masked"
