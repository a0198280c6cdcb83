"""Build the parser's per-community lexicon from the community config."""

from __future__ import annotations

import nlp
from community import CommunityConfig


def lexicon_from_config(config: CommunityConfig) -> nlp.Lexicon:
    """Compound and place names for the segmenter; category renames and extra keywords."""
    streets = {area.compound for grid in config.grids for area in grid.areas if area.compound}
    return nlp.build_lexicon(
        compounds=config.compounds,
        places=(*config.places, *sorted(streets)),
        categories=[nlp.Category(c.slug, c.name, c.keywords) for c in config.categories],
    )


def ready_lexicon(config: CommunityConfig) -> nlp.Lexicon:
    """The community's lexicon with the parser fully loaded (jieba's dictionary, the character
    model, the segmenter's tables), so the first resident's message does not pay ~0.3 s for
    it on the event loop. Call it in a worker thread."""
    lexicon = lexicon_from_config(config)
    nlp.parse("8栋3单元楼道灯坏了", lexicon)
    return lexicon
