"""Message text formatting the way Telegram does it.

* :func:`auto_entities` finds the entities Telegram adds to plain text on its own
  (bot commands, mentions, hashtags, URLs).
* :func:`parse_text` applies ``parse_mode`` (HTML, MarkdownV2, legacy Markdown) and returns
  the plain text plus entities, raising the same ``400 can't parse entities`` errors Telegram
  raises for malformed markup (a classic bug: interpolating user text without escaping it).

All offsets and lengths are in UTF-16 code units, like the Bot API.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ApiError, bad_request

Entity = dict[str, Any]

_COMMAND_RE = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{4,32}(?!\w)")
_HASHTAG_RE = re.compile(r"(?<![\w#])#[^\W\d_][\w]*")
_URL_RE = re.compile(r"\bhttps?://[^\s<>\"]+")


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units (Telegram's offset unit)."""
    return len(text.encode("utf-16-le")) // 2


def auto_entities(text: str) -> list[Entity]:
    """Entities Telegram derives from plain text: bot_command, mention, hashtag, url."""
    found: list[Entity] = []
    for kind, pattern in (
        ("bot_command", _COMMAND_RE),
        ("mention", _MENTION_RE),
        ("hashtag", _HASHTAG_RE),
        ("url", _URL_RE),
    ):
        for match in pattern.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group(0)),
                }
            )
    found.sort(key=lambda e: (e["offset"], -e["length"]))
    # Drop entities nested in an earlier one (e.g. a mention inside a URL).
    result: list[Entity] = []
    end = -1
    for entity in found:
        if entity["offset"] >= end:
            result.append(entity)
            end = entity["offset"] + entity["length"]
    return result


def parse_text(
    text: str, parse_mode: str | None, entities: list[Entity] | None = None
) -> tuple[str, list[Entity]]:
    """Apply ``parse_mode`` or explicit ``entities`` to ``text``.

    Returns the text as Telegram stores it and its entities (explicit, parsed or automatic).
    """
    if entities:
        return text, list(entities)
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, parsed = _parse_html(text)
    elif mode == "markdownv2":
        plain, parsed = _MarkdownParser(text, v2=True).parse()
    elif mode == "markdown":
        plain, parsed = _MarkdownParser(text, v2=False).parse()
    elif mode:
        raise bad_request(f"unsupported parse_mode {parse_mode}")
    else:
        return text, auto_entities(text)
    opaque = [
        (e["offset"], e["offset"] + e["length"])
        for e in parsed
        if e["type"] in ("code", "pre", "text_link", "text_mention")
    ]
    merged = parsed + [
        e
        for e in auto_entities(plain)
        if not any(s < e["offset"] + e["length"] and e["offset"] < t for s, t in opaque)
    ]
    merged.sort(key=lambda e: (e["offset"], -e["length"]))
    return plain, merged


def _parse_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


# ----------------------------------------------------------------------------- HTML

_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>\"']+)))?")
_HTML_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


def _html_entity_for(name: str, attrs: dict[str, str], offset: int) -> Entity | None:
    """The entity a start tag opens (``None`` for a neutral span), or raise 400."""
    if name in _SIMPLE_TAGS:
        return {"type": _SIMPLE_TAGS[name]}
    if name == "span":
        if attrs.get("class") != "tg-spoiler":
            raise _parse_error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        return {"type": "spoiler"}
    if name == "a":
        href = attrs.get("href", "")
        match = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if match:
            return {"type": "text_mention", "user": {"id": int(match.group(1)),
                                                    "is_bot": False, "first_name": ""}}
        return {"type": "text_link", "url": href}
    if name == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    if name == "tg-emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
    raise _parse_error(f'Unsupported start tag "{name}" at byte offset {offset}')


def _parse_html(source: str) -> tuple[str, list[Entity]]:
    out: list[str] = []
    out_len = 0  # UTF-16 length of "".join(out)
    stack: list[tuple[str, Entity | None, int, int]] = []
    entities: list[Entity] = []
    i = 0
    while i < len(source):
        char = source[i]
        byte_offset = len(source[:i].encode())
        if char == "<":
            match = _TAG_RE.match(source, i)
            if not match:
                rest = re.match(r"</?([^\s>]*)", source[i:])
                name = rest.group(1) if rest else ""
                raise _parse_error(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
            closing, name = match.group(1) == "/", match.group(2).lower()
            if closing:
                if not stack:
                    raise _parse_error(f'Unexpected end tag at byte offset {byte_offset}')
                open_name, entity, start, _ = stack.pop()
                if open_name != name:
                    raise _parse_error(
                        f'Unmatched end tag at byte offset {byte_offset}, expected '
                        f'"</{open_name}>", found "</{name}>"'
                    )
                if entity is not None and out_len > start:
                    if entity["type"] == "code" and stack and stack[-1][0] == "pre":
                        language = _language(entity)
                        pre_entity = stack[-1][1]
                        if pre_entity is not None and language:
                            pre_entity["language"] = language
                    else:
                        entity.pop("_class", None)
                        entities.append({**entity, "offset": start, "length": out_len - start})
            else:
                attrs = {
                    m.group(1).lower(): next((g for g in m.groups()[1:] if g is not None), "")
                    for m in _ATTR_RE.finditer(match.group(3))
                }
                entity = _html_entity_for(name, attrs, byte_offset)
                if entity is not None and name == "code" and "class" in attrs:
                    entity["_class"] = attrs["class"]
                stack.append((name, entity, out_len, byte_offset))
            i = match.end()
            continue
        if char == "&":
            match = _HTML_ENTITY_RE.match(source, i)
            if match:
                ref = match.group(1)
                if ref in _NAMED:
                    decoded = _NAMED[ref]
                elif ref.startswith("#x"):
                    decoded = chr(int(ref[2:], 16))
                else:
                    decoded = chr(int(ref[1:]))
                out.append(decoded)
                out_len += utf16_len(decoded)
                i = match.end()
                continue
        out.append(char)
        out_len += utf16_len(char)
        i += 1
    if stack:
        name, _, _, byte_offset = stack[-1]
        raise _parse_error(
            f'Can\'t find end tag corresponding to start tag "{name}" at byte offset '
            f"{byte_offset}"
        )
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _language(entity: Entity) -> str | None:
    css = entity.pop("_class", None)
    if css and css.startswith("language-"):
        return str(css[len("language-") :])
    return None


# ------------------------------------------------------------------------- Markdown

_V2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_LEGACY_LINK_RE = re.compile(r"\[[^\]]*\]\([^)]*\)")


class _MarkdownParser:
    """MarkdownV2 (strict escaping) and legacy Markdown parser."""

    def __init__(self, source: str, *, v2: bool) -> None:
        self.src = source
        self.v2 = v2
        self.out: list[str] = []
        self.out_len = 0
        self.entities: list[Entity] = []
        # open entities: marker -> (entity type, start offset, byte offset)
        self.open: dict[str, tuple[str, int, int]] = {}
        self.link_start: tuple[int, int] | None = None

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.out_len += utf16_len(text)

    def _byte(self, i: int) -> int:
        return len(self.src[:i].encode())

    def _toggle(self, marker: str, kind: str, i: int) -> None:
        if marker in self.open:
            _, start, _ = self.open.pop(marker)
            if self.out_len > start:
                self.entities.append({"type": kind, "offset": start,
                                      "length": self.out_len - start})
        else:
            self.open[marker] = (kind, self.out_len, self._byte(i))

    def _read_until(self, i: int, closer: str, *, escapes: str) -> tuple[str, int]:
        """Read raw text from ``i`` up to ``closer``; return text and index after closer."""
        buf: list[str] = []
        while i < len(self.src):
            if (
                self.v2
                and self.src[i] == "\\"
                and i + 1 < len(self.src)
                and self.src[i + 1] in escapes
            ):
                buf.append(self.src[i + 1])
                i += 2
                continue
            if self.src.startswith(closer, i):
                return "".join(buf), i + len(closer)
            buf.append(self.src[i])
            i += 1
        raise _parse_error(f"can't find end of the entity starting at byte offset {self._byte(i)}")

    def parse(self) -> tuple[str, list[Entity]]:
        src, i = self.src, 0
        line_start = True
        quote_start: int | None = None
        while i < len(src):
            char = src[i]
            if self.v2 and line_start and char == ">":
                if quote_start is None:
                    quote_start = self.out_len
                i += 1
                line_start = False
                continue
            if char == "\n" and quote_start is not None and not src.startswith(">", i + 1):
                self.entities.append({"type": "blockquote", "offset": quote_start,
                                      "length": self.out_len - quote_start})
                quote_start = None
            line_start = char == "\n"
            if char == "\\" and i + 1 < len(src) and (
                self.v2 or src[i + 1] in "_*`["
            ):
                self._emit(src[i + 1])
                i += 2
                continue
            if src.startswith("```", i):
                body, i = self._read_until(i + 3, "```", escapes="`\\")
                language = None
                if "\n" in body:
                    first, rest = body.split("\n", 1)
                    if first and " " not in first:
                        language, body = first, rest
                start = self.out_len
                self._emit(body)
                entity: Entity = {"type": "pre", "offset": start, "length": self.out_len - start}
                if language:
                    entity["language"] = language
                self.entities.append(entity)
                continue
            if char == "`":
                body, i = self._read_until(i + 1, "`", escapes="`\\")
                start = self.out_len
                self._emit(body)
                self.entities.append({"type": "code", "offset": start,
                                      "length": self.out_len - start})
                continue
            if char == "[" and not self.v2 and not _LEGACY_LINK_RE.match(src, i):
                self._emit("[")  # legacy Markdown keeps a bracket that opens no link
                i += 1
                continue
            if char == "[":
                if self.link_start is not None:
                    raise _parse_error("character '[' is reserved and must be escaped with "
                                       "the preceding '\\'")
                self.link_start = (self.out_len, self._byte(i))
                i += 1
                continue
            if char == "]" and self.link_start is not None:
                if not src.startswith("(", i + 1):
                    if self.v2:
                        raise _parse_error("character ']' is reserved and must be escaped "
                                           "with the preceding '\\'")
                    self._emit("]")
                    i += 1
                    continue
                url, i = self._read_until(i + 2, ")", escapes=")\\")
                start, _ = self.link_start
                self.link_start = None
                if self.out_len > start:
                    self.entities.append({"type": "text_link", "offset": start,
                                          "length": self.out_len - start, "url": url})
                continue
            if self.v2 and src.startswith("||", i):
                self._toggle("||", "spoiler", i)
                i += 2
                continue
            if self.v2 and src.startswith("__", i):
                self._toggle("__", "underline", i)
                i += 2
                continue
            markers = {"*": "bold", "_": "italic"}
            if self.v2:
                markers["~"] = "strikethrough"
            if char in markers:
                self._toggle(char, markers[char], i)
                i += 1
                continue
            if self.v2 and char in _V2_RESERVED:
                raise _parse_error(
                    f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
                )
            self._emit(char)
            i += 1
        if quote_start is not None:
            self.entities.append({"type": "blockquote", "offset": quote_start,
                                  "length": self.out_len - quote_start})
        if self.open or self.link_start is not None:
            offsets = [b for _, _, b in self.open.values()]
            if self.link_start is not None:
                offsets.append(self.link_start[1])
            raise _parse_error(
                f"can't find end of the entity starting at byte offset {min(offsets)}"
            )
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities
