"""/export/* over real HTTP: the xlsx holds the list's rows, scope and masking follow the
viewer, bad parameters answer 400, and export tokens work only for the export routes
until revoked."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest
from aiohttp.test_utils import TestClient

from tests.support.console_data import T0, add_tickets, hours, make_ticket
from tests.support.console_http import (
    SECRETARY,
    WORKER_1,
    Console,
)

ROW_LINK = re.compile(r'<td data-label="编号"><a href="/tickets/([^"]+)">')
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')
NEW_TOKEN = re.compile(r'<p class="token-new">([^<]+)</p>')


async def xlsx_numbers(client: TestClient, path: str) -> list[str]:
    response = await client.get(path)
    body = await response.read()
    assert response.status == 200, body[:300]
    assert response.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    rows = [r for r in book.active.iter_rows(min_row=2, values_only=True)]
    return [str(r[0]) for r in rows]


async def seed(console: Console) -> None:
    tickets = [make_ticket(created_at=T0 + hours(i), grid=("第一网格", "第二网格")[i % 2],
                           assignee=("王芳", "李强")[i % 2],
                           text=f"{i}号楼漏水，电话13812345678" if i % 3 else "路灯坏了")
               for i in range(130)]
    await add_tickets(console.db, *tickets)


async def test_export_equals_the_list_over_all_pages(console: Console) -> None:
    await seed(console)
    boss = await console.client(SECRETARY)
    query = "grid=第二网格&q=漏水&sort=old"
    listed: list[str] = []
    path: str | None = f"/tickets?{query}"
    while path:
        text = await (await boss.get(path)).text()
        listed += ROW_LINK.findall(text)
        match = re.search(r'id="next-page" href="([^"]+)"', text)
        path = match.group(1).replace("&amp;", "&") if match else None
    exported = await xlsx_numbers(boss, f"/export/tickets.xlsx?{query}")
    assert exported == listed and len(listed) == 43
    worker = await console.client(WORKER_1)
    assert await xlsx_numbers(worker, "/export/tickets.xlsx?grid=第二网格") == []


@pytest.mark.parametrize("path", [
    "/export/tickets.xlsx?state=nope", "/export/tickets.xlsx?from=2026-02-30",
    "/export/monthly.xlsx?month=2026-00", "/export/monthly.xlsx?month=abc",
])
async def test_bad_export_parameters_answer_400(console: Console, path: str) -> None:
    boss = await console.client(SECRETARY)
    response = await boss.get(path)
    assert response.status == 400
    assert re.search(r"[\u4e00-\u9fff]", await response.text())


async def test_monthly_report_download(console: Console) -> None:
    await seed(console)
    boss = await console.client(SECRETARY)
    response = await boss.get("/export/monthly.xlsx?month=2026-11")
    assert response.status == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    summary = {r[0]: r[1] for r in book["概要"].iter_rows(min_row=5, values_only=True) if r[0]}
    assert summary["新增工单"] == 130


async def test_export_tokens_lifecycle(console: Console) -> None:
    await seed(console)
    boss = await console.client(SECRETARY)
    page = await (await boss.get("/export/tokens")).text()
    csrf = CSRF.search(page).group(1)  # type: ignore[union-attr]
    refused = await boss.post("/export/tokens", data={"label": "街道", "_csrf": "wrong"})
    assert refused.status == 403
    created = await boss.post("/export/tokens", data={"label": "街道月报系统", "_csrf": csrf})
    page = await created.text()
    assert created.status == 200, page
    token = NEW_TOKEN.search(page).group(1)  # type: ignore[union-attr]
    async with console.db.read() as r:
        stored = await r.export_tokens._all("SELECT token_hash FROM export_tokens")
    assert token not in str([tuple(x) for x in stored])  # only the hash is kept
    robot = await console.client(None)
    assert len(await xlsx_numbers(robot, f"/export/tickets.xlsx?token={token}")) == 130
    month = await robot.get(f"/export/monthly.xlsx?month=2026-11&token={token}")
    assert month.status == 200
    # The token opens nothing but the exports.
    assert (await robot.get(f"/tickets?token={token}")).status == 401
    assert (await robot.get(f"/?token={token}")).status == 401
    assert (await robot.get(f"/export/tokens?token={token}")).status == 403
    assert (await robot.get("/export/tickets.xlsx?token=forged")).status == 403
    listing = await (await boss.get("/export/tokens")).text()
    assert "街道月报系统" in listing and token not in listing
    token_id = re.search(r"/export/tokens/(\d+)/revoke", listing).group(1)  # type: ignore[union-attr]
    revoked = await boss.post(f"/export/tokens/{token_id}/revoke", data={"_csrf": csrf},
                              allow_redirects=False)
    assert revoked.status == 303
    assert (await robot.get(f"/export/tickets.xlsx?token={token}")).status == 403
    again = await boss.post(f"/export/tokens/{token_id}/revoke", data={"_csrf": csrf})
    assert again.status == 404
    for bad_id in ("²", "٢", "x"):
        odd = await boss.post(f"/export/tokens/{bad_id}/revoke", data={"_csrf": csrf})
        assert odd.status == 400
    broken = await boss.post("/export/tokens", data=b"--x\r\nbroken",
                             headers={"Content-Type": "multipart/form-data; boundary=zzz",
                                      "X-CSRF-Token": csrf})
    assert broken.status == 400


async def test_workers_cannot_manage_tokens(console: Console) -> None:
    worker = await console.client(WORKER_1)
    assert (await worker.get("/export/tokens")).status == 403
