// 工单 list: new tickets matching the filters appear without a reload (polls a JSON
// endpoint scoped like the list). No inline script: the config is a JSON block.
(function () {
  "use strict";
  var cfgNode = document.getElementById("list-config");
  if (!cfgNode) return;
  var cfg = JSON.parse(cfgNode.textContent);
  var tbody = document.querySelector("#ticket-list tbody");
  var note = document.getElementById("fresh-note");
  var since = cfg.since;
  var added = 0;

  function cell(label, text, cls) {
    var td = document.createElement("td");
    td.setAttribute("data-label", label);
    if (cls) td.className = cls;
    if (text !== null && text !== undefined) td.textContent = String(text);
    return td;
  }
  function badge(text, cls) {
    var span = document.createElement("span");
    span.className = "badge " + cls;
    span.textContent = text;
    return span;
  }
  function rowOf(r) {
    var tr = document.createElement("tr");
    tr.className = "fresh" + (r.overdue ? " overdue" : "");
    var num = cell("编号", null);
    var a = document.createElement("a");
    a.href = r.href;
    a.textContent = r.number;
    num.appendChild(a);
    if (r.urgency !== "normal") { num.appendChild(document.createTextNode(" ")); num.appendChild(badge(r.urgency_label, r.urgency)); }
    tr.appendChild(num);
    var st = cell("状态", null);
    st.appendChild(badge(r.state_label, "state-" + r.state));
    if (r.overdue) { st.appendChild(document.createTextNode(" ")); st.appendChild(badge("逾期", "overdue")); }
    tr.appendChild(st);
    tr.appendChild(cell("类别", r.category));
    tr.appendChild(cell("内容", r.text, "text"));
    tr.appendChild(cell("位置", r.place));
    tr.appendChild(cell("网格", r.grid));
    tr.appendChild(cell("负责人", r.assignee));
    tr.appendChild(cell("附议", r.supporters || ""));
    tr.appendChild(cell("登记", r.created));
    tr.appendChild(cell("期限", r.due));
    return tr;
  }
  function poll() {
    var url = cfg.poll + (cfg.poll.indexOf("?") < 0 ? "?" : "&") + "since=" + since;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        if (!data) return;
        since = data.since;
        if (!data.rows.length) return;
        added += data.rows.length;
        if (cfg.live && tbody) {
          data.rows.forEach(function (r) { tbody.insertBefore(rowOf(r), tbody.firstChild); });
          var empty = document.querySelector(".empty");
          if (empty) empty.hidden = true;
        }
        if (note) {
          note.hidden = false;
          note.textContent = cfg.live ? ("新到 " + added + " 件工单，已加在列表顶部。")
            : ("新到 " + added + " 件符合条件的工单，刷新页面查看。");
        }
      })
      .catch(function () { /* offline for a moment: try again next time */ });
  }
  setInterval(poll, cfg.every || 15000);
})();
