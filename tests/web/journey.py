"""A small driver for the application journey through the Flask test client."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

ERROR_MESSAGE = re.compile(r'class="tb-error-message"[^>]*>(.*?)</p>', re.S)
TAG = re.compile(r"<[^>]+>")


def errors_in(html: str) -> list[str]:
    """The inline error messages on a page, without the visually hidden 'Error:' prefix."""
    found = []
    for raw in ERROR_MESSAGE.findall(html):
        text = TAG.sub("", raw).strip()
        found.append(re.sub(r"^(错误|Error)[:：]\s*", "", text))
    return found


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


class Journey:
    def __init__(self, client: FlaskClient, service: str):
        self.client = client
        self.service = service
        page = client.get(f"/services/{service}").get_data(as_text=True)
        response = client.post(f"/services/{service}/start", data={"csrf_token": csrf(page)})
        assert response.status_code == 302, response.get_data(as_text=True)[-1500:]
        self.first_page_url = response.headers["Location"]
        self.token = self.first_page_url.split("/")[2]
        self.token_value = csrf(page)

    def url(self, page_id: str) -> str:
        return f"/apply/{self.token}/pages/{page_id}"

    def post(self, page_id: str, data: dict[str, Any], **kwargs: Any):  # type: ignore[no-untyped-def]
        payload = {"csrf_token": self.token_value, **data}
        return self.client.post(self.url(page_id), data=payload, **kwargs)

    def submit(self, key: str | None = None, declaration: bool = True):  # type: ignore[no-untyped-def]
        check = self.client.get(f"/apply/{self.token}/check").get_data(as_text=True)
        match = re.search(r'name="idempotency_key" value="([^"]+)"', check)
        data = {"csrf_token": self.token_value,
                "idempotency_key": key or (match.group(1) if match else "")}
        if declaration:
            data["declaration"] = "agree"
        return self.client.post(f"/apply/{self.token}/submit", data=data)


def id_number(prefix17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(prefix17, weights, strict=True))
    return prefix17 + "10X98765432"[total % 11]


VALID_ID = id_number("31010419900307123")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00"
       b"\x00\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
       b"\x00\x00\x00IEND\xaeB`\x82")

RESIDENCE_PAGES: list[tuple[str, dict[str, Any]]] = [
    ("applicant", {"applicant.name": "张三", "applicant.id_number": VALID_ID,
                   "applicant.mobile": "13812345678", "applicant.permit_number": "3100001234567",
                   "applicant.employer": "上海示例科技有限公司",
                   "applicant.employer_uscc": "91350100M000100Y43"}),
    ("education", {"education.level": "master", "education.field_of_study": "计算机科学与技术"}),
    ("qualification", {"qualification.kind": "none"}),
    ("social-insurance", {"social_insurance.months": "36", "social_insurance.base_band": "1_to_2",
                          "social_insurance.base_months": "36"}),
    ("family-awards", {"family.spouse_local": "false", "awards.level": "none"}),
    ("record", {"record.serious_crime": "false"}),
]
