"""The stamp picture of a demo seal: a red ring, a star and the seal's name around it, drawn
with Pillow and the system's CJK font (fonts-wqy-microhei). The words "test only" sit in the
middle so that no one mistakes a printout for a real seal."""

from __future__ import annotations

import functools
import io
import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
)
RED = (205, 20, 20, 255)


@functools.lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_PATHS:
        if path.exists():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default()


@functools.lru_cache(maxsize=64)
def draw(name: str, pixels: int = 400) -> bytes:
    """A square PNG with a transparent background (kept per name: drawing takes ~0.2 s, and
    every app start makes the platform's seal)."""
    image = Image.new("RGBA", (pixels, pixels), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    centre, radius = pixels / 2, pixels / 2 - 8
    pen.ellipse((8, 8, pixels - 8, pixels - 8), outline=RED, width=max(6, pixels // 40))
    star = [(centre + radius * 0.22 * math.cos(math.radians(-90 + i * 36)) * (1 if i % 2 == 0 else 0.4),
             centre + radius * 0.22 * math.sin(math.radians(-90 + i * 36)) * (1 if i % 2 == 0 else 0.4))
            for i in range(10)]
    pen.polygon(star, fill=RED)
    text = name[:16]
    glyph = _font(pixels // 11)
    span = 240.0
    for index, char in enumerate(text):
        angle = -90 - span / 2 + span * (index + 0.5) / max(len(text), 1)
        x = centre + radius * 0.78 * math.cos(math.radians(angle))
        y = centre + radius * 0.78 * math.sin(math.radians(angle))
        letter = Image.new("RGBA", (pixels // 9, pixels // 9), (0, 0, 0, 0))
        ImageDraw.Draw(letter).text((pixels // 18, pixels // 18), char, font=glyph, fill=RED,
                                    anchor="mm")
        letter = letter.rotate(-(angle + 90), resample=Image.Resampling.BICUBIC)
        image.alpha_composite(letter, (int(x - letter.width / 2), int(y - letter.height / 2)))
    pen.text((centre, centre + radius * 0.45), "TEST ONLY", font=_font(pixels // 16), fill=RED,
             anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
