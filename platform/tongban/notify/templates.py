"""The message of each notification kind, in Chinese and English. ``{link}`` stays in the
stored body: each delivery fills it with the address its medium needs (a path on the site, the
full address in an email or SMS)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

LANGUAGES = ("zh", "en")
DEFAULT_LANGUAGE = "zh"


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


TEMPLATES: Mapping[str, Mapping[str, Template]] = {
    "submitted": {
        "zh": Template("您的申请已提交（{reference}）",
                       "您的“{service}”申请已提交，办件编号 {reference}。我们会尽快办理，"
                       "您可以随时查看进度：{link}"),
        "en": Template("Your application has been submitted ({reference})",
                       "Your application for {service} has been submitted. Its reference is "
                       "{reference}. You can follow its progress at {link}"),
    },
    "correction_requested": {
        "zh": Template("请补正您的申请（{reference}）",
                       "您的“{service}”申请（{reference}）需要补正材料或信息。请查看需要修改的"
                       "内容并重新提交：{link}"),
        "en": Template("Please correct your application ({reference})",
                       "Your application for {service} ({reference}) needs corrections. See "
                       "what to change and send it again at {link}"),
    },
    "approved": {
        "zh": Template("您的申请已获批准（{reference}）",
                       "您的“{service}”申请（{reference}）已获批准。查看决定：{link}"),
        "en": Template("Your application has been approved ({reference})",
                       "Your application for {service} ({reference}) has been approved. See the "
                       "decision at {link}"),
    },
    "refused": {
        "zh": Template("您的申请未获批准（{reference}）",
                       "您的“{service}”申请（{reference}）未获批准。查看决定及理由：{link}"),
        "en": Template("Your application has been refused ({reference})",
                       "Your application for {service} ({reference}) has been refused. See the "
                       "decision and the reasons at {link}"),
    },
    # 容缺受理's reminder before the due day: {service} carries the materials and the day. To
    # the applicant and, as "material_due_clerk", to the clerk who took the application in.
    "material_due": {
        "zh": Template("请按时补交材料（{reference}）",
                       "您的申请（{reference}）容缺受理时承诺补交的材料尚未收到：{service}。"
                       "请在截止日期前上传：{link}"),
        "en": Template("Please bring the missing material in time ({reference})",
                       "The material you promised for your application ({reference}) has not "
                       "arrived yet: {service}. Please upload it before the due day at {link}"),
    },
    "material_due_clerk": {
        "zh": Template("容缺材料即将到期（{reference}）",
                       "您容缺受理的申请（{reference}）承诺补交的材料尚未收到：{service}。"
                       "查看申请：{link}"),
        "en": Template("Materials to follow are due soon ({reference})",
                       "The materials promised for the application you accepted with materials "
                       "to follow ({reference}) have not arrived yet: {service}. See the "
                       "application at {link}"),
    },
    # 容缺受理's due day passed: {service} carries the materials and the day. To the applicant
    # and, as "material_overdue_clerk", to the clerk who took the application in.
    "material_overdue": {
        "zh": Template("补交材料已逾期（{reference}）",
                       "您的申请（{reference}）容缺受理时承诺补交的材料逾期未收到：{service}。"
                       "审批部门可以因此终止办理。请尽快上传或与受理窗口联系：{link}"),
        "en": Template("The promised material is overdue ({reference})",
                       "The material you promised for your application ({reference}) did not "
                       "arrive by the due day: {service}. The department may end the application "
                       "for it. Please upload it at once or contact the counter: {link}"),
    },
    "material_overdue_clerk": {
        "zh": Template("容缺材料逾期未补齐（{reference}）",
                       "您容缺受理的申请（{reference}）承诺补交的材料逾期未收到：{service}。"
                       "查看申请：{link}"),
        "en": Template("Materials to follow are overdue ({reference})",
                       "The materials promised for the application you accepted with materials "
                       "to follow ({reference}) did not arrive by the due day: {service}. See the "
                       "application at {link}"),
    },
    "deemed_accepted": {
        "zh": Template("您的申请已视为受理（{reference}）",
                       "您的“{service}”申请（{reference}）在法定期限内未被处理，依法视为已受理。"
                       "查看进度：{link}"),
        "en": Template("Your application is deemed accepted ({reference})",
                       "Your application for {service} ({reference}) was not dealt with in the "
                       "legal time limit, so it is deemed accepted. Follow its progress at {link}"),
    },
    "rate_invite": {
        "zh": Template("请评价本次服务（{reference}）",
                       "您的“{service}”办件（{reference}）已办结。欢迎对本次服务作出评价（好差评），"
                       "您的评价将帮助我们改进工作：{link}"),
        "en": Template("Please rate our service ({reference})",
                       "Your application for {service} ({reference}) is finished. Please tell "
                       "us how satisfied you are: your rating helps us improve. Rate it at {link}"),
    },
    "rating_reply": {
        "zh": Template("您的评价已有答复（{reference}）",
                       "我们已对您就“{service}”办件（{reference}）作出的评价进行回访和整改，"
                       "查看答复：{link}"),
        "en": Template("We have answered your rating ({reference})",
                       "We have followed up your rating of your application for {service} "
                       "({reference}). See our answer at {link}"),
    },
}


def language_of(preferred: str | None) -> str:
    return preferred if preferred in LANGUAGES else DEFAULT_LANGUAGE


def render(kind: str, language: str, *, reference: str, service: str) -> Template:
    """Subject and body of ``kind`` in ``language``; the body keeps ``{link}``."""
    template = TEMPLATES[kind][language_of(language)]
    values = {"reference": reference, "service": service, "link": "{link}"}
    return Template(template.subject.format(**values), template.body.format(**values))
