"""The customer mails a job asks for: which of the plugin's templates a task names.

The plugin renders and sends the mail inside Medusa once the status it goes with is recorded; a job only
names the template (and, for a failure, the reason).
"""

from __future__ import annotations

from fulfillment.workflow import MailTemplate
from worker_job.job_context import JobContext, MissingJobVariable


def mail_template(ctx: JobContext, default: MailTemplate | None = None) -> MailTemplate:
    """The task header `template`: one of the plugin's templates (any other is a modelling error)."""
    raw = ctx.headers.get("template") or (default.value if default else "")
    try:
        return MailTemplate(raw)
    except ValueError:
        known = ", ".join(template.value for template in MailTemplate)
        raise MissingJobVariable(f"task header template must be one of {known}, got {raw!r}") from None
