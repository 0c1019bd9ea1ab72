"""OFD (GB/T 33190-2016) packages: a writer for simple A4 documents (a title, paragraphs of
Chinese text, a signature line) and a reader that gives each part's bytes. Coordinates are in
millimetres; the namespace is the standard's ``http://www.ofdspec.org/2016``."""

from __future__ import annotations

import io
import unicodedata
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from lxml import etree

NS = "http://www.ofdspec.org/2016"
OFD = f"{{{NS}}}"
NSMAP = {"ofd": NS}
MEDIA_TYPE = "application/ofd"

PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 26.0, 37.0, 35.0
BODY_SIZE = 5.6          # 16 pt (三号) is 5.64 mm
TITLE_SIZE = 7.8         # 22 pt (二号)
LINE_GAP = 1.55
FONT_NAME = "宋体"


class NotAnOfd(ValueError):
    """The bytes are not an OFD package (not a zip, or no OFD.xml at its root)."""


MAX_PARTS = 2_000
MAX_UNPACKED_BYTES = 200 * 1024 * 1024


class TooLarge(ValueError):
    """A package that would unpack past the limits (a zip bomb, or no document of ours)."""


class DamagedPackage(ValueError):
    """An OFD package whose parts cannot be read back (a changed byte breaks a part's CRC)."""


def xml(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def element(parent: etree._Element | None, tag: str, text: str | None = None,
            **attributes: str) -> etree._Element:
    node = (etree.Element(OFD + tag, nsmap=NSMAP) if parent is None
            else etree.SubElement(parent, OFD + tag))
    for key, value in attributes.items():
        node.set(key, value)
    if text is not None:
        node.text = text
    return node


def _width(char: str, size: float) -> float:
    """How far one character advances: CJK and full-width forms are square, the rest half."""
    return size if unicodedata.east_asian_width(char) in "WF" else size * 0.5


def wrap(text: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (character by character, as Chinese
    text is set; a line never starts with a closing punctuation mark)."""
    lines: list[str] = []
    line, used = "", 0.0
    for char in text:
        advance = _width(char, size)
        if line and used + advance > width and char not in "，。、；：？！）」』”":
            lines.append(line)
            line, used = "", 0.0
        line += char
        used += advance
    if line:
        lines.append(line)
    return lines


@dataclass(frozen=True)
class Layout:
    """The document's text laid out: ``lines`` of (page, x, y baseline, size, text), pages
    counted from 0, and where the stamp goes (page, x, y, width, height): over the issuer's
    name and date on the last page."""

    lines: list[tuple[int, float, float, float, str]]
    stamp: tuple[int, float, float, float, float]

    @property
    def pages(self) -> int:
        return max(line[0] for line in self.lines) + 1


def lay_out(title: str, paragraphs: Sequence[str], issuer: str, issued_on: date,
            reference: str, stamp_size: float) -> Layout:
    lines: list[tuple[int, float, float, float, str]] = []
    body_width = PAGE_WIDTH - 2 * MARGIN_X
    page, y = 0, MARGIN_TOP

    def room(height: float) -> None:
        """Go to the next page when ``height`` more does not fit on this one."""
        nonlocal page, y
        if y + height > PAGE_HEIGHT - MARGIN_BOTTOM:
            page, y = page + 1, MARGIN_TOP

    for text in wrap(title, TITLE_SIZE, body_width):
        advance = sum(_width(c, TITLE_SIZE) for c in text)
        y += TITLE_SIZE
        lines.append((page, (PAGE_WIDTH - advance) / 2, y, TITLE_SIZE, text))
        y += TITLE_SIZE * (LINE_GAP - 1)
    if reference:
        y += BODY_SIZE * LINE_GAP
        advance = sum(_width(c, BODY_SIZE) for c in reference)
        lines.append((page, (PAGE_WIDTH - advance) / 2, y, BODY_SIZE, reference))
    y += BODY_SIZE
    for paragraph in paragraphs:
        for index, text in enumerate(wrap(paragraph, BODY_SIZE, body_width - 2 * BODY_SIZE)):
            room(BODY_SIZE * LINE_GAP)
            y += BODY_SIZE * LINE_GAP
            indent = 2 * BODY_SIZE if index == 0 else 0.0
            lines.append((page, MARGIN_X + indent, y, BODY_SIZE, text))
    # The issuer's name and the date stay together, with room for the stamp around them.
    room(BODY_SIZE * LINE_GAP * 5 + stamp_size / 2)
    y += BODY_SIZE * LINE_GAP * 3
    date_text = f"{issued_on.year}年{issued_on.month}月{issued_on.day}日"
    right = PAGE_WIDTH - MARGIN_X - 2 * BODY_SIZE
    for text in (issuer, date_text):
        advance = sum(_width(c, BODY_SIZE) for c in text)
        lines.append((page, right - advance, y, BODY_SIZE, text))
        y += BODY_SIZE * LINE_GAP
    # The stamp covers the issuer's name and the date, as a paper seal does ("骑年盖月").
    stamp_x = right - stamp_size * 0.8
    stamp_y = y - BODY_SIZE * LINE_GAP * 2 - stamp_size / 2
    return Layout(lines, (page, stamp_x, stamp_y, stamp_size, stamp_size))


def write(*, doc_id: str, title: str, paragraphs: Sequence[str], issuer: str, issued_on: date,
          reference: str = "", stamp_size: float = 40.0) -> tuple[bytes, Layout]:
    """An unsigned A4 OFD package (as many pages as the text needs), and its layout (where a
    seal's stamp belongs)."""
    layout = lay_out(title, paragraphs, issuer, issued_on, reference, stamp_size)
    ids = iter(range(1, 100_000))
    font_id = next(ids)
    contents: list[tuple[int, etree._Element]] = []
    for number in range(layout.pages):
        page_id = next(ids)
        content = element(None, "Page")
        layer = element(element(content, "Content"), "Layer", ID=str(next(ids)))
        for _, x, y, size, text in (line for line in layout.lines if line[0] == number):
            obj = element(layer, "TextObject", ID=str(next(ids)),
                          Boundary=f"{x:.2f} {y - size:.2f} {PAGE_WIDTH - x:.2f} {size * 1.4:.2f}",
                          Font=str(font_id), Size=f"{size:.2f}")
            element(obj, "FillColor", Value="0 0 0")
            deltas = " ".join(f"{_width(c, size):.2f}" for c in text[:-1])
            code = element(obj, "TextCode", text, X="0", Y=f"{size:.2f}")
            if deltas:
                code.set("DeltaX", deltas)
        contents.append((page_id, content))
    max_id = next(ids) - 1

    ofd = element(None, "OFD", Version="1.0", DocType="OFD")
    body = element(ofd, "DocBody")
    info = element(body, "DocInfo")
    element(info, "DocID", doc_id)
    element(info, "Title", title)
    element(info, "Author", issuer)
    element(info, "CreationDate", issued_on.isoformat())
    element(info, "Creator", "tongban")
    element(body, "DocRoot", "Doc_0/Document.xml")

    document = element(None, "Document")
    common = element(document, "CommonData")
    element(common, "MaxUnitID", str(max_id))
    element(element(common, "PageArea"), "PhysicalBox", f"0 0 {PAGE_WIDTH:g} {PAGE_HEIGHT:g}")
    element(common, "PublicRes", "PublicRes.xml")
    pages = element(document, "Pages")
    for number, (page_id, _) in enumerate(contents):
        element(pages, "Page", ID=str(page_id), BaseLoc=f"Pages/Page_{number}/Content.xml")

    public_res = element(None, "Res", BaseLoc="Res")
    element(element(public_res, "Fonts"), "Font", ID=str(font_id), FontName=FONT_NAME,
            FamilyName=FONT_NAME)

    parts = {
        "OFD.xml": xml(ofd),
        "Doc_0/Document.xml": xml(document),
        "Doc_0/PublicRes.xml": xml(public_res),
        **{f"Doc_0/Pages/Page_{number}/Content.xml": xml(content)
           for number, (_, content) in enumerate(contents)},
    }
    return pack(parts), layout


def pack(parts: dict[str, bytes]) -> bytes:
    """A zip of ``parts`` (path -> bytes) in a fixed order with fixed times: the same parts
    make the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            entry = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return buffer.getvalue()


def unpack(data: bytes) -> dict[str, bytes]:
    """Every part of an OFD package by path. :class:`NotAnOfd` when it is not one,
    :class:`DamagedPackage` when a part cannot be read back intact."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, EOFError) as exc:
        raise NotAnOfd(f"not a zip package: {exc}") from None
    with archive:
        entries = [info for info in archive.infolist() if not info.is_dir()]
        names = [info.filename for info in entries]
        if "OFD.xml" not in names:
            raise NotAnOfd("no OFD.xml at the package's root")
        if len(entries) > MAX_PARTS or sum(info.file_size for info in entries) > MAX_UNPACKED_BYTES:
            raise TooLarge(f"the package has more than {MAX_PARTS:,} parts or unpacks to more "
                           f"than {MAX_UNPACKED_BYTES:,} bytes")
        parts: dict[str, bytes] = {}
        for name in names:
            try:
                with archive.open(name) as handle:
                    # file_size is the archive's word: read no more than it promised
                    data = handle.read(archive.getinfo(name).file_size + 1)
                if len(data) > archive.getinfo(name).file_size:
                    raise DamagedPackage(f"part {name} is longer than the archive says")
                parts[name] = data
            except (zipfile.BadZipFile, zlib.error, ValueError, EOFError, OSError) as exc:
                # a bad CRC (BadZipFile) or broken deflate data (zlib.error)
                raise DamagedPackage(f"part {name} cannot be read: {exc}") from None
    return parts


def parse(data: bytes) -> etree._Element:
    """One XML part, with external entities and network access off."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    return etree.fromstring(data, parser)


def resolve(base: str, location: str) -> str:
    """A path inside the package from ``location`` (absolute "/Doc_0/..." or relative to the
    folder of the part ``base``), normalised; ValueError if it leaves the package."""
    if location.startswith("/"):
        path = location.lstrip("/")
    else:
        folder = base.rsplit("/", 1)[0] if "/" in base else ""
        path = f"{folder}/{location}" if folder else location
    out: list[str] = []
    for piece in path.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if not out:
                raise ValueError(f"{location!r} leaves the package")
            out.pop()
            continue
        out.append(piece)
    return "/".join(out)
