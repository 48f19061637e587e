"""Delivery reports and complaints about sent letters (revision 0008_bounce), in the SQL
repository: written by a mail Get with ``recognize: bounces``, read by the execution view."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import delete, insert, select

from ._records import MailReport
from ._schema import mail_reports, utcnow
from ._sql_core import SqlCore


class ReportStore(SqlCore):
    """Reports about sent letters, by the execution that sent them."""

    def add_mail_report(self, report: MailReport) -> None:
        values = {**asdict(report), "recorded_at": report.recorded_at or utcnow()}
        with self._write() as conn:  # a report read again replaces itself (same key, same content)
            conn.execute(delete(mail_reports).where(mail_reports.c.report_id == report.report_id,
                                                    mail_reports.c.recipient == report.recipient))
            conn.execute(insert(mail_reports).values(**values))

    def mail_reports(self, execution_id: str) -> list[MailReport]:
        stmt = (select(mail_reports).where(mail_reports.c.execution_id == execution_id)
                .order_by(mail_reports.c.recorded_at, mail_reports.c.recipient))
        with self._read() as conn:
            return [MailReport(**row._asdict()) for row in conn.execute(stmt)]
