"""The instance's colours, derived from its one accent colour.

An admin picks any accent; the pages must stay readable (WCAG AA, 4.5:1 for
text) in light and dark. From the accent we derive the text colour on accent
buttons, and a link colour for each scheme: the accent darkened or lightened
just enough to reach the ratio against that scheme's card background.
"""

from __future__ import annotations

from functools import lru_cache

LIGHT_BACKGROUND = "#f4f5f7"  # --bg in agora.css, light (darker than --card)
DARK_BACKGROUND = "#1f2229"  # --card in agora.css, dark (lighter than --bg)
AA_TEXT = 4.5

RGB = tuple[float, float, float]


def parse(colour: str) -> RGB:
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))


def hex_of(rgb: RGB) -> str:
    return "#" + "".join(f"{round(min(255.0, max(0.0, c))):02x}" for c in rgb)


def luminance(rgb: RGB) -> float:
    def channel(c: float) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _towards(rgb: RGB, target: float, amount: float) -> RGB:
    r, g, b = rgb
    return (r + (target - r) * amount, g + (target - g) * amount, b + (target - b) * amount)


def readable_on(accent: RGB, background: RGB) -> RGB:
    """``accent`` moved towards black or white until it reads on ``background``."""
    if contrast(accent, background) >= AA_TEXT:
        return accent
    target = 0.0 if luminance(background) > 0.5 else 255.0
    for step in range(1, 21):
        moved = _towards(accent, target, step / 20)
        if contrast(moved, background) >= AA_TEXT:
            return moved
    return (target, target, target)


@lru_cache(maxsize=8)
def stylesheet(accent_colour: str) -> str:
    accent = parse(accent_colour)
    white, black = (255.0, 255.0, 255.0), (0.0, 0.0, 0.0)
    on_accent = white if contrast(accent, white) >= contrast(accent, black) else black
    light_link = readable_on(accent, parse(LIGHT_BACKGROUND))
    dark_link = readable_on(accent, parse(DARK_BACKGROUND))
    # Buttons use the accent as background; keep it one that its text reads on.
    button = accent if contrast(accent, on_accent) >= AA_TEXT else light_link
    return (
        f":root {{ --accent: {hex_of(button)}; --accent-text: {hex_of(on_accent)}; "
        f"--link: {hex_of(light_link)}; }}\n"
        f"@media (prefers-color-scheme: dark) {{ :root {{ --link: {hex_of(dark_link)}; }} }}\n"
    )
