"""Content negotiation on the Accept header (RFC 9110 q-values)."""

from __future__ import annotations

AS_TYPES = ("application/activity+json", "application/ld+json")
JSON_TYPES = ("application/json", "application/jrd+json")


def _media_ranges(accept: str) -> list[tuple[str, dict[str, str], float]]:
    out: list[tuple[str, dict[str, str], float]] = []
    for part in accept.split(",")[:32]:
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if not media:
            continue
        params: dict[str, str] = {}
        q = 1.0
        for piece in pieces[1:]:
            name, _, value = piece.partition("=")
            name = name.strip().lower()
            value = value.strip().strip('"')
            if name == "q":
                try:
                    q = max(0.0, min(1.0, float(value)))
                except ValueError:
                    q = 0.0
            else:
                params[name] = value
        out.append((media, params, q))
    return out


def preferred(accept: str | None, offers: tuple[str, ...]) -> str | None:
    """Pick the best of ``offers`` ("activity", "json", "html") for this Accept.

    Returns None when nothing offered is acceptable (the caller answers 406).
    A missing Accept header accepts anything: the first offer wins.
    """
    if not accept or not accept.strip():
        return offers[0]
    best: tuple[float, int, str] | None = None
    for media, params, q in _media_ranges(accept):
        if q <= 0:
            continue
        for rank, offer in enumerate(offers):
            specificity = _match(offer, media, params)
            if specificity < 0:
                continue
            score = (q, specificity, offer)
            if best is None or (score[0], score[1], -rank) > (
                best[0],
                best[1],
                -offers.index(best[2]),
            ):
                best = score
    return best[2] if best else None


def _match(offer: str, media: str, params: dict[str, str]) -> int:
    """How specifically ``media`` matches ``offer``; -1 for no match."""
    if media == "*/*":
        return 0
    if offer == "activity":
        if media == "application/activity+json":
            return 3
        if media == "application/ld+json":
            profile = params.get("profile", "")
            if not profile or "https://www.w3.org/ns/activitystreams" in profile:
                return 3
        if media == "application/*":
            return 1
        return -1
    if offer == "json":
        if media in JSON_TYPES:
            return 3
        return 1 if media == "application/*" else -1
    if offer == "html":
        if media in ("text/html", "application/xhtml+xml"):
            return 3
        return 1 if media == "text/*" else -1
    return -1
