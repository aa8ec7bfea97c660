"""The accent colour from config always yields readable links and buttons."""

from __future__ import annotations

import re

import pytest

from agora_node.web.theme import (
    AA_TEXT,
    DARK_BACKGROUND,
    LIGHT_BACKGROUND,
    contrast,
    parse,
    stylesheet,
)


def colours(css: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, value in re.findall(r"--([a-z-]+): (#[0-9a-f]{6})", css):
        found.setdefault(name, []).append(value)
    return found


@pytest.mark.parametrize("accent", ["#3a4fb8", "#ffdd00", "#000", "#fff", "#7fffd4", "#b00020"])
def test_links_and_buttons_reach_aa_in_both_schemes(accent: str) -> None:
    found = colours(stylesheet(accent))
    light_link, dark_link = (parse(c) for c in found["link"])
    assert contrast(light_link, parse(LIGHT_BACKGROUND)) >= AA_TEXT
    assert contrast(dark_link, parse(DARK_BACKGROUND)) >= AA_TEXT
    assert contrast(parse(found["accent"][0]), parse(found["accent-text"][0])) >= AA_TEXT


def test_a_readable_accent_is_kept_as_it_is() -> None:
    found = colours(stylesheet("#3a4fb8"))
    assert found["accent"] == ["#3a4fb8"]
    assert found["link"][0] == "#3a4fb8"


def test_contrast_matches_the_wcag_reference_values() -> None:
    assert contrast(parse("#000"), parse("#fff")) == pytest.approx(21.0)
    assert contrast(parse("#777"), parse("#fff")) == pytest.approx(4.48, abs=0.01)
