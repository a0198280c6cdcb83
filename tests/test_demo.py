"""The README's first command: the offline demo plays the whole loop and exits 0."""

from __future__ import annotations

import io
from pathlib import Path

from runtime.demo import _run


async def test_demo_plays_the_closed_loop_reminders_and_digest(tmp_path: Path) -> None:
    out = io.StringIO()
    keep = tmp_path / "demo.db"
    assert await _run(speed=600.0, keep_db=str(keep), quiet=False, out=out) == 0
    text = out.getvalue()
    assert "📋 工单 #" in text  # acknowledgement cards
    assert "🚨紧急" in text  # the gas smell, written in Traditional characters
    assert "附议: 4 人" in text  # the burst made one card
    assert "请您评价" in text and "居民评价: 满意" in text  # the loop closed
    assert "接单时限快到了" in text and "督办提醒" in text  # reminder and escalation
    assert "本周小结" in text and "议事清单" in text  # the Thursday digest
    assert "已重新打开工单 #" in text and "原因: 居民反馈问题没有解决" in text  # reply under a card
    assert "负责 王芳" in text  # the progress question's short answer
    assert "原文: 12号楼 2单元 楼道灯坏了" in text and "📍 12号楼2单元" in text  # a split report
    assert "失败 0" in text and keep.exists()
