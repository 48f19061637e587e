"""Files in a sent email besides the document: the images an HTML body shows by ``cid:``
(the operation's ``inline_images``) and the files it attaches (``attachments``).

Each file is read once per session. What cannot be had fails the document before anything
is sent, with a message naming the setting and the fix: an HTML body that refers to a cid no
inline image has, or a file that cannot be read.
"""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path
from urllib.parse import unquote

from .mime import ContentType, Letter, MessageTemplate, Part, parse_content_type

__all__ = ["FileParts", "PartError", "add_files", "cid_references"]

#: ``cid:NAME`` as an attribute's value (src, background...) or in a CSS url(); not in plain
#: text. RFC 2392 URLs are %-encoded.
_CID = re.compile(r"""(?:=\s*["']?|url\(\s*["']?)cid:([^\s"'<>()]+)""", re.IGNORECASE)
#: What a cid may hold in the operation: it is written into Content-ID as <cid>.
CID_NAME = re.compile(r"[A-Za-z0-9._@-]+\Z")


class PartError(ValueError):
    """The email cannot be built from its files; the message names the setting and the fix."""


def cid_references(html: str) -> list[str]:
    """The cids an HTML body refers to, in order, each once."""
    return list(dict.fromkeys(unquote(name) for name in _CID.findall(html)))


def _type_of(path: str) -> ContentType:
    guessed, _ = mimetypes.guess_type(path, strict=False)
    try:
        return parse_content_type(guessed or "application/octet-stream")
    except ValueError:
        return parse_content_type("application/octet-stream")


class FileParts:
    """The operation's inline images (cid: file) and attached files (paths), read on first use."""

    def __init__(self, inline_images: dict[str, str], attachments: list[str]) -> None:
        self.images = inline_images
        self.files = attachments
        self._read: dict[str, bytes] = {}

    def _data(self, path: str, where: str) -> bytes:
        data = self._read.get(path)
        if data is None:
            try:
                data = Path(path).expanduser().read_bytes()
            except OSError as exc:
                raise PartError(f"{where}: the file {path} cannot be read ({exc.strerror or exc}); fix the path in "
                                "the operation (a relative one is taken from the directory postroom runs in)") from None
            self._read[path] = data
        return data

    def inline_images(self, html: str, source: str, documents: dict[str, Part]) -> list[Part]:
        """The images ``html`` shows by cid, from ``documents`` (grouped documents with
        mail.content_id) or the operation; :class:`PartError` for one neither has."""
        parts = []
        for cid in cid_references(html):
            if cid in documents:
                parts.append(documents[cid])
                continue
            path = self.images.get(cid)
            if path is None:
                have = ", ".join(sorted({*self.images, *documents})) or "none"
                raise PartError(f"the HTML body ({source}) shows the image cid:{cid}, but inline_images has no {cid} "
                                f"(it has: {have}); add {cid}: FILE to the operation's inline_images or remove "
                                "the reference")
            data = self._data(path, f"inline_images {cid}")
            parts.append(Part(Path(path).name, _type_of(path), data, cid=cid))
        return parts

    def attachments(self) -> list[Part]:
        """The operation's attached files, in the order given."""
        return [Part(Path(path).name, _type_of(path), self._data(path, "attachments")) for path in self.files]


def _html_of(letter: Letter, template: MessageTemplate) -> tuple[str, str] | None:
    """(the HTML body, where it comes from) when the email's body is HTML."""
    if template.disposition == "inline":
        data_type = letter.data_type or template.attachment_type
        if data_type.mime_type == "text/html":
            return letter.data.decode(data_type.text_charset, "replace"), "the document"
    elif template.body_type.mime_type == "text/html":
        return letter.body, "mail.body"
    return None


def add_files(files: FileParts, letter: Letter, template: MessageTemplate, members: list[Part]) -> None:
    """Give ``letter`` the images its HTML shows, then as attachments the grouped documents
    (``members``; one with a cid the HTML does not show is attached all the same) and the
    operation's files."""
    html = _html_of(letter, template)
    images = {part.cid: part for part in members if part.cid}
    if html is not None:
        letter.inline_images = files.inline_images(*html, images)
    shown = {part.cid for part in letter.inline_images}
    letter.attachments = [part for part in members if not part.cid or part.cid not in shown] + files.attachments()
