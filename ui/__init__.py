"""Presentation, free of Telegram: Chinese texts, ticket cards, buttons, masking."""
