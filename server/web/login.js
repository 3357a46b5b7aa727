// The login page: one form; on success the person goes to their own screen. The watcher's password is also kept in
// sessionStorage (this tab only) because the watcher page uses it for the broker's WebSocket (docs/screens.md).
'use strict';
(async function () {
  K.header('เข้าสู่ระบบ', 'Log in');
  const next = new URLSearchParams(location.search).get('next');
  const safeNext = next && /^\/[a-z]+$/.test(next) ? next : null;
  const me = await K.api('GET', '/api/v1/me');
  if (me.status === 200 && sessionStorage.getItem('kaoko.csrf')) {
    if (me.data.role !== 'watcher' || sessionStorage.getItem('kaoko.mqttpw')) {
      location.replace(safeNext || K.home(me.data.role));
      return;
    }
    document.getElementById('user').value = me.data.user;
  }
  const form = document.getElementById('login-form');
  const err = document.getElementById('login-error');
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    const user = form.user.value.trim().toLowerCase();
    const password = form.password.value;
    if (!user || !password) {
      err.textContent = K.t('กรุณากรอกชื่อผู้ใช้และรหัสผ่าน', 'Enter your user name and password');
      return;
    }
    document.getElementById('login-submit').disabled = true;
    const r = await K.api('POST', '/api/v1/login', { user, password });
    document.getElementById('login-submit').disabled = false;
    if (r.status !== 200) {
      err.textContent = (r.data && r.data.error) || K.t('เข้าสู่ระบบไม่สำเร็จ', 'Login failed');
      return;
    }
    sessionStorage.setItem('kaoko.csrf', r.data.csrf);
    if (r.data.role === 'watcher') sessionStorage.setItem('kaoko.mqttpw', password);
    location.replace(safeNext || K.home(r.data.role));
  });
})();
