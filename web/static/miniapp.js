// Telegram Mini App start page: Telegram passes the signed init data in the URL
// fragment (#tgWebAppData=...); post it to the server, which checks its signature.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.hash.slice(1));
  var data = params.get("tgWebAppData");
  var status = document.getElementById("miniapp-status");
  if (!data) {
    status.textContent = "没有收到 Telegram 的登录数据。请在 Telegram 里打开工作台,或私聊机器人发送 /web 获取登录链接。";
    return;
  }
  document.getElementById("init-data").value = data;
  document.getElementById("miniapp-form").submit();
})();
