"""``postroom mail dkim-record``: the DNS TXT record that publishes a Mail connection's DKIM
key (or a key file's), for the domain's DNS."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..connectors.mail import MailConnection, dkim_record
from ..errors import ConfigError
from ..repository import Repository
from ._binding import settings_resolver
from ._components import component_from_record, get_record

__all__ = ["DkimRecord", "dkim_txt_record"]


@dataclass(frozen=True)
class DkimRecord:
    name: str  # SELECTOR._domainkey.DOMAIN
    value: str  # v=DKIM1; k=...; p=...
    zone: str  # the record as one zone-file line


def dkim_txt_record(repo: Repository | None, connection_id: str | None, *, key_file: str | None = None,
                    selector: str | None = None, domain: str | None = None,
                    algorithm: str | None = None) -> DkimRecord:
    """The record for the connection's key, or for ``key_file`` with ``selector`` and
    ``domain`` (options override the connection's settings)."""
    key_text, field = "", "dkim_private_key"
    if connection_id is not None:
        assert repo is not None
        settings = _connection(repo, connection_id)
        key_text = settings.dkim_private_key
        selector = selector or settings.dkim_selector
        domain = domain or settings.dkim_domain
        algorithm = algorithm or settings.dkim_algorithm
    if key_file is not None:
        field = "--key"
        try:
            key_text = Path(key_file).read_text(encoding="ascii", errors="replace")
        except OSError as exc:
            raise ConfigError(f"cannot read the key file: {exc.strerror}", file=key_file,
                              fix="name a PEM private key file") from None
    if not key_text:
        raise ConfigError("no DKIM key: the connection has no dkim_private_key and no --key was given",
                          fix="give --key FILE, or set dkim_private_key on the connection")
    missing = [option for option, value in (("--selector", selector), ("--domain", domain)) if not value]
    if missing:
        raise ConfigError(f"{' and '.join(missing)} missing", fix="give them, or name a connection that has "
                          "dkim_selector and dkim_domain")
    assert selector and domain
    try:
        name, value, zone = dkim_record(key_text, selector, domain, algorithm or "rsa-sha256")
    except ValueError as exc:
        raise ConfigError(str(exc), file=key_file, field=field) from None
    return DkimRecord(name, value, zone)


def _connection(repo: Repository, connection_id: str) -> MailConnection:
    record = get_record(repo, connection_id)
    component = component_from_record(record)
    if record.type != "connection" or getattr(component, "connector", None) != "mail":
        raise ConfigError(f"{connection_id!r} is not a mail connection", fix="name a mail connection id")
    settings = settings_resolver(repo, {record.id: record})(component)
    if not isinstance(settings, MailConnection):
        raise ConfigError(f"{connection_id!r} is not a mail connection", fix="name a mail connection id")
    return settings

