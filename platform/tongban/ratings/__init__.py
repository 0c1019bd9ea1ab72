"""好差评: ratings of finished applications (一事一评), the default rating when nobody rates, the
回访 and 整改 a real-name 差评 opens, appeals against mistaken or malicious ratings, and the
figures the dashboards show. No Flask here: the pages are in ``tongban.web.ratings``."""

from .giving import rate
from .rules import (
    FINISHED,
    LEVELS,
    REASONS,
    Policy,
    RatingRefused,
    apply_defaults,
    invite,
    is_bad,
    rating_of,
)

__all__ = ["FINISHED", "LEVELS", "REASONS", "Policy", "RatingRefused", "apply_defaults",
           "invite", "is_bad", "rate", "rating_of"]
