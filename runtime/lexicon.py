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
