"""Star levels (志愿服务记录办法): 1 to 5 stars at 100 / 300 / 600 / 1000 / 1500
cumulative confirmed hours. Minutes in, whole integers throughout."""

from dataclasses import dataclass

STAR_HOURS = (100, 300, 600, 1000, 1500)
STAR_MINUTES = tuple(h * 60 for h in STAR_HOURS)


def stars_for(minutes: int) -> int:
    """How many stars `minutes` of confirmed service earn (0 to 5)."""
    return sum(1 for threshold in STAR_MINUTES if minutes >= threshold)


@dataclass(frozen=True)
class StarProgress:
    stars: int
    minutes: int
    next_minutes: int | None  # the next level's threshold; None at five stars

    @property
    def to_next(self) -> int | None:
        """Minutes still needed for the next star."""
        return None if self.next_minutes is None else self.next_minutes - self.minutes

    @property
    def percent(self) -> int:
        """Progress from this level's threshold to the next, 0-100 (100 at five stars)."""
        if self.next_minutes is None:
            return 100
        floor = STAR_MINUTES[self.stars - 1] if self.stars else 0
        return (self.minutes - floor) * 100 // (self.next_minutes - floor)


def progress(minutes: int) -> StarProgress:
    stars = stars_for(minutes)
    nxt = STAR_MINUTES[stars] if stars < len(STAR_MINUTES) else None
    return StarProgress(stars, minutes, nxt)


def hours_text(minutes: int) -> str:
    """Minutes as hours with up to two decimals, exactly (quarter hours: .25 .5 .75)."""
    whole, rest = divmod(minutes, 60)
    if rest == 0:
        return str(whole)
    hundredths = rest * 100 // 60
    return f"{whole}.{hundredths:02d}".rstrip("0")
