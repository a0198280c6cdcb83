"""Every Chinese sentence GridBot says, in one place.

Short, friendly, phone-sized. Messages residents see avoid jargon; messages workers see
lead with the ticket number and what to do. Functions take plain values, return text.
"""

from __future__ import annotations

import re

from tickets.errors import RefusalCode

STATE_LABELS = {
    "new": "已受理,待派单",
    "assigned": "已受理,已派单",
    "accepted": "已接单",
    "in_progress": "处理中",
    "resolved": "已办结,待评价",
    "closed": "已关闭",
    "cancelled": "已撤销",
    "merged": "已合并",
}
STATE_SHORT = {
    "new": "受理", "assigned": "受理", "accepted": "已接单", "in_progress": "处理中",
    "resolved": "已办结", "closed": "已关闭", "cancelled": "已撤销", "merged": "已合并",
}
URGENCY_LABELS = {"emergency": "🚨紧急", "urgent": "⚠️加急", "normal": "一般"}
RATING_BUTTONS = ((1, "😊 满意"), (2, "🙂 基本满意"), (3, "😐 不满意"), (4, "😟 没解决"))
RATING_WORDS = {1: "满意", 2: "基本满意", 3: "不满意", 4: "没解决"}

REFUSALS: dict[RefusalCode, str] = {
    RefusalCode.WRONG_STATE: "工单当前状态下不能这样操作。",
    RefusalCode.ALREADY_CLOSED: "这张工单已经结束,不能再操作。",
    RefusalCode.ALREADY_ACCEPTED: "这张工单已经有人接单了。",
    RefusalCode.RESIDENT_CANNOT_ACCEPT: "接单是网格员的操作,居民不能接单。",
    RefusalCode.NOT_STAFF: "这个操作只有社区工作人员可以使用。",
    RefusalCode.NOT_ASSIGNEE: "只有这张工单的负责人或书记可以这样操作。",
    RefusalCode.NOT_REPORTER: "只有反映问题的居民本人可以这样操作。",
    RefusalCode.NOT_YOUR_GRID: "这张工单不属于您的网格。",
    RefusalCode.NOT_YOUR_CATEGORY: "这张工单不在您负责的类别内。",
    RefusalCode.SUPERVISOR_ONLY: "这个操作需要书记或管理员权限。",
    RefusalCode.REOPEN_WINDOW_EXPIRED: "已超过可以重新打开的期限,如问题仍在请重新反映。",
    RefusalCode.INVALID_RATING: "评价只能选 满意 / 基本满意 / 不满意 / 没解决。",
    RefusalCode.SAME_TARGET: "工单已经在这里了,无需转派。",
    RefusalCode.UNKNOWN_TARGET: "找不到要转派的人员或网格,请检查名字。",
    RefusalCode.MASTER_NOT_OPEN: "要合并到的工单已经结束。",
    RefusalCode.NOT_MERGED: "这张工单没有被合并过。",
    RefusalCode.NOT_A_SUPPORTER: "这位居民没有附议这张工单。",
    RefusalCode.STALE: "工单刚被别人更新了,请再试一次。",
}


def refusal(code: RefusalCode) -> str:
    return REFUSALS.get(code, "操作未能完成。")


# -- commands: help and errors ---------------------------------------------------------------

RESIDENT_HELP = (
    "您好,我是社区网格助手 🤝\n"
    "在群里直接说出问题(如“8号楼顶楼漏雨”)我会自动登记并派给网格员。\n"
    "/report 问题描述 — 手动登记\n"
    "/my — 查看我反映的问题\n"
    "/ticket 编号 — 查看一张工单\n"
    "/cancel 编号 — 撤销我反映的问题"
)
WORKER_HELP = (
    "网格员常用命令(也可以直接点工单消息下面的按钮):\n"
    "/mine — 我的待办  /open — 本网格未办结工单  /stats — 统计\n"
    "/accept 编号 — 接单  /progress 编号 说明 — 反馈进展\n"
    "/done 编号 说明 — 办结  /transfer 编号 @某人 — 转派\n"
    "/escalate 编号 原因 — 升级督办  /reject 编号 原因 — 退回(不是诉求)\n"
    "/web — 网格工作台(网页,私聊发送登录链接)  /web logout — 退出工作台"
)
SUPERVISOR_HELP = (
    "书记/管理员命令:\n"
    "/bind 网格名 — 把本群绑定到网格  /who — 本网格人员\n"
    "/broadcast [网格名] 内容 — 群发通知\n"
    "/schedule — 定时通知:添加 / 列表 / 删除"
)

UNKNOWN_COMMAND = "没有这个命令。发送 /help 查看可用命令。"
NEED_TICKET_NUMBER = "请写上工单编号,例如:{example}"
BAD_TICKET_NUMBER = "“{given}”不是有效的工单编号,例如:{example}"
TICKET_NOT_FOUND = "找不到工单 {ref},请检查编号。"
NOT_ALLOWED_TO_VIEW = "只有反映人、负责的网格员和书记可以查看这张工单。"
NEED_TEXT = "请在命令后面写上内容,例如:{example}"
STAFF_ONLY = "这个命令只有社区工作人员可以使用。"
ADMIN_ONLY = "这个命令只有管理员可以使用。"
GROUP_ONLY = "这个命令请在网格群里使用。"
PRIVATE_ONLY = "这个命令请私聊我使用。"
UNKNOWN_GRID = "没有叫“{name}”的网格。可选:{choices}"
UNKNOWN_PERSON = "找不到“{name}”,请用 @用户名 或配置里的姓名。"
CHAT_NOT_BOUND = "本群还没有绑定网格,请管理员发送 /bind 网格名。"
BUTTON_EXPIRED = "这个按钮已失效。"
BUTTON_NOT_FOR_YOU = "这个按钮不是给您的。"
BUTTON_INVALID = "按钮无效。"
SAVE_FAILED = "系统繁忙,消息已记下,稍后处理。"

START_STAFF = "{name}您好!已登记您的私聊,今后新工单会直接发到这里。\n\n{help}"
START_RESIDENT = RESIDENT_HELP
BIND_DONE = "已把本群绑定到“{grid}”。群里反映的问题会派给该网格。"


# -- presentation helpers ----------------------------------------------------------------------


def location_text(
    compound: str | None,
    building: str | None,
    unit: str | None,
    room: str | None = None,
    floor: str | None = None,
    *,
    with_room: bool = True,
) -> str:
    """"阳光花园8号楼3单元601室"; rooms only where the reader may see them."""
    parts = [compound or ""]
    if building:
        parts.append(f"{building}号楼")
    if unit:
        parts.append(f"{unit}单元")
    if with_room and room:
        parts.append(f"{room}室")
    elif floor and not room:
        parts.append(f"{floor}楼")
    text = "".join(parts)
    return text or "位置未说明"


def when_text(minutes: float) -> str:
    """A duration as residents say it: 15分钟 / 2小时 / 1天."""
    if minutes < 60:
        return f"{max(1, round(minutes))}分钟"
    if minutes < 24 * 60:
        hours = minutes / 60
        return f"{hours:.0f}小时" if hours == int(hours) else f"{hours:.1f}小时"
    return f"{minutes / 1440:.0f}天"

# -- intake ------------------------------------------------------------------------------------

ASK_PRIVATE = "您在群里说的“{text}”,需要帮您登记为工单,交给网格员处理吗?"
ASK_IN_CHAT = "{name},需要帮您登记为工单,交给网格员处理吗?"
PROMPT_DECLINED = "好的,不登记。"
PROMPT_REGISTERED = "已登记为工单 #{number}。"
PRIVATE_NOT_A_REPORT = (
    "收到。如果是需要社区处理的问题(漏水、噪音、电梯、安全隐患等),直接描述给我就行,"
    "最好写上小区、楼栋和单元;也可以用 /report 问题描述 登记。"
)

# -- resident commands -------------------------------------------------------------------------

MY_NONE = "您还没有反映过问题。"
MY_HEADER = "您反映的问题:"
MY_LINE = "#{number} {category} · {state} · {date}"
TIMELINE_HEADER = "处理记录:"
CANCELLED = "工单 #{number} 已撤销。"
ACTION_LABELS = {
    "create": "登记", "assign": "派单", "accept": "接单", "progress": "进展", "resolve": "办结",
    "close": "关闭", "reopen": "重新打开", "transfer": "转派", "escalate": "升级督办",
    "reject": "退回", "cancel": "撤销", "merge": "合并", "merge_in": "并入", "split": "拆分",
    "split_off": "拆出", "rate": "评价", "photo": "照片", "edit": "修改", "support": "附议",
    "detail": "补充", "link": "关联",
}

# -- worker commands ---------------------------------------------------------------------------

DONE_ACCEPT = "已接单 #{number} ✅"
DONE_PROGRESS = "已记录 #{number} 的进展。"
DONE_RESOLVE = "#{number} 已办结,已请居民评价。"
DONE_ESCALATE = "#{number} 已升级督办,书记会收到提醒。"
DONE_REJECT = "#{number} 已退回(不是需要处理的问题),已记录以便改进识别。"
DONE_TRANSFER = "#{number} 已转派给 {to}。"
MINE_HEADER = "您的待办工单:"
MINE_NONE = "您目前没有待办工单 👍"
OPEN_HEADER = "{grids} 未办结工单 {count} 张(最早的在前):"
OPEN_NONE = "目前没有未办结的工单 👍"
OPEN_LINE = "#{number} {category} · {location} · {state} · {age}前 · {assignee}{overdue}"
STATS_HEADER = "近7天统计({start} — {end}):"


def satisfaction_text(counts: object) -> str:
    """Ratings as 12345 bulletins report them: 满意率 (满意 + 基本满意 over all rated),
    how many were rated, and the 不满意 / 没解决 counts — never an average of 1..4."""
    rated = getattr(counts, "ratings", 0)
    rate = getattr(counts, "satisfaction_rate", None)
    if not rated or rate is None:
        return "暂无评价"
    return (f"满意率 {rate:.0%}(评价 {rated} 件,不满意 {getattr(counts, 'dissatisfied', 0)} 件,"
            f"没解决 {getattr(counts, 'unresolved', 0)} 件)")


def stats_line(name: str, counts: object) -> str:
    """One line of figures: new, resolved, on-time rate, satisfaction."""
    on_time = getattr(counts, "on_time_rate", None)
    on_time_text = f"{on_time:.0%}" if on_time is not None else "—"
    return (f"{name}: 新增 {getattr(counts, 'new', 0)},办结 {getattr(counts, 'resolved', 0)},"
            f"按时率 {on_time_text},{satisfaction_text(counts)}")

# -- admin commands ----------------------------------------------------------------------------

BROADCAST = "📢 社区通知\n{text}"
BROADCAST_DONE = "已安排发送到 {count} 个群。"
SCHEDULE_HEADER = "定时通知:"
SCHEDULE_LINE = "{id}. {when} → {grids}:{text}"
SCHEDULE_NONE = "还没有在聊天里添加的定时通知(配置文件里的定时通知不在此列)。"
SCHEDULE_ADDED = "已添加定时通知 {id}:{when}。"
SCHEDULE_REMOVED = "已删除该定时通知。"
SCHEDULE_NOT_FOUND = "没有编号为 {id} 的定时通知。"
SCHEDULE_INVALID = "无法添加:{reason}"
SCHEDULE_USAGE = (
    "用法:\n/schedule add 每周五 10:00 | 给独居老人送饺子 | 第一网格\n"
    "/schedule list\n/schedule del 编号\n"
    "时间可写:每天 09:00 / 每周四 09:00 / 每月3,13,23日 09:00 / 2026-12-01 09:00 / cron: 0 9 * * 4"
)
RATED_THANKS = "感谢您的评价!"
RATE_ONLY_REPORTER = "只有反映这个问题的居民可以评价。"
ANONYMOUS_ADMIN = "请以个人身份(关闭“匿名管理员”)发送命令,我才能确认您的权限。"
TRANSFER_PICK = "转派 #{number} 给谁?"
RETURN_CONFIRM = "确认退回 #{number}?退回表示这不是需要处理的问题,工单会撤销。"
ACTION_TOASTS = {
    "acc": "已接单 ✅", "prg": "已标记为处理中", "done": "已办结,已请居民评价",
    "esc": "已升级督办", "ret": "已退回", "xfer": "已转派",
}
PROGRESS_DEFAULT_NOTE = "正在处理"
ESCALATE_DEFAULT_REASON = "网格员申请督办"
RETURN_DEFAULT_NOTE = "网格员退回:不是需要处理的问题"
PHOTO_BY_RESIDENT = "📷 工单 #{number} 居民发来的照片"
PHOTO_BY_STAFF = "📷 工单 #{number} 办理照片已存档"
PHOTO_ATTACHED = "照片已存入工单 #{number}。"
PRIVATE_CASE = "求助(详情私聊)"

# -- learning: 改分类 and /fix ----------------------------------------------------------------
CATEGORY_PICK = "#{number} 改为哪个分类?(现在是「{current}」)"
CATEGORY_CHANGED = "#{number} 已改为「{name}」,谢谢,我会记住这种说法。"
CATEGORY_SAME = "分类没有变化。"
FIX_USAGE = "用法:/fix 工单编号 正确地址,例如 /fix 2612-0007 8号楼3单元502"
FIX_NO_PLACE = "没有从「{given}」里读出楼栋、单元或房间,请写成“8号楼3单元502”这样。"
FIX_DONE = "#{number} 的位置已更正为 {place}。"

# -- combined acknowledgements (a group short of its Telegram allowance) ----------------------

#: A ticket's own line in a combined message starts with one of these marks, then "#number".
FOLD_CARD_MARKS = ("🆕", "🚨", "⚠️", "📋")
FOLD_SUPPORT = "👥 #{number} 已为您附议(共 {count} 人) {who}"
FOLD_MERGE = "🔗 #{number} 与工单 #{master} 是同一件事,已合并并为您附议 {who}"
#: A card update (the ticket's own card is edited when the allowance returns).
FOLD_STATUS = "🔄 #{number} {what} → {state}"
FOLD_PRIVATE = "📋#{number} 已收到,网格员会私下联系您 {who} · {state}"
#: What a copy sent twice (a restart or a lost answer from Telegram) says until it is deleted.
STALE_COPY = "(此条因网络中断重复发送,已作废,请以下方最新消息为准)"
FOLD_FOOTER = "(消息较多,合并回复;各工单进展会在本消息中更新)"


def fold_header(new: int, supports: int, others: int, updates: int = 0) -> str:
    """"已受理 7 件,附议 2 件:" — the first line of a combined message."""
    parts = []
    if new:
        parts.append(f"已受理 {new} 件")
    if supports:
        parts.append(f"附议 {supports} 件")
    if updates:
        parts.append(f"进展 {updates} 件")
    if others or not parts:
        parts.append(f"通知 {others} 条")
    return "📮 " + ",".join(parts) + ":"


_FOLD_CARD_LINE = re.compile(
    "^(?:" + "|".join(re.escape(mark) for mark in FOLD_CARD_MARKS) + r")#(\S+) ", re.M)


def fold_card_numbers(text: str) -> list[str]:
    """Ticket numbers whose card line is in a combined message (for benches and tests)."""
    return _FOLD_CARD_LINE.findall(text)

# -- staff console (/web) ----------------------------------------------------------------------
WEB_STAFF_ONLY = "网格工作台只对社区工作人员开放。有问题请直接在群里说,网格员会处理。"
WEB_PRIVATE_ONLY = "请私聊我发送 /web 获取工作台登录链接(链接只发给你本人)。"
WEB_OFF = "这个部署没有开启网格工作台,请联系管理员。"
WEB_LINK = ("🖥 网格工作台登录链接(10 分钟内有效,只能用一次,请勿转发):\n{url}\n\n"
            "打开后点“进入工作台”。用完可发送 /web logout 退出所有设备。")
WEB_LOGGED_OUT = "已退出网格工作台(结束了 {count} 个登录)。"
WEB_BUTTON = "🖥 工作台"
WEB_LINK_SENT = "登录链接已私聊发给你。"
WEB_LINK_NOT_SENT = "请先私聊我发送 /start,再点工作台。"
