/** The front door: the home page, self-service recovery, sign-out for staff and administrators. */
export const frontZh = {
  'home.sign_in': '登录',
  'home.my_page': '进入个人中心',
  'home.signed_in': '您已登录：{name}。',
  'services.other': '其他服务',
  'nav.signout': '退出登录',
  'list.separator': '、',
  'admin.clients.enabled': '已启用',
  'admin.client.status': '状态',
  'admin.client.kind.service': '服务账号',
  'admin.client.redirect_uris.hint': '登录后返回网站的地址，每行一个，须以 https:// 开头。服务账号不填。',
  'admin.client.post_logout': '退出后返回的地址',
  'admin.client.post_logout.hint': '网站发起退出登录后回到的地址，每行一个（可不填）。',
  'admin.client.backchannel': '后台退出通知地址',
  'admin.client.backchannel.hint': '用户在一通或其他网站退出时，一通向这个地址发送退出通知（可不填）。',
  'admin.client.backchannel_sid': '通知中包含会话标识（sid），网站据此只结束对应的登录',
  'admin.client.scope.hint': '用空格分隔，如 openid profile phone；登录用户的网站须包含 openid。',
  'admin.client.grants': '授权方式',
  'admin.client.grant.authorization_code': '用户登录（授权码）',
  'admin.client.grant.refresh_token': '保持登录（刷新令牌）',
  'admin.client.grant.client_credentials': '服务账号调用接口（客户端凭据，只选这一项即为服务账号）',
  'admin.client.auth': '网站后台的认证方式',
  'admin.client.auth.client_secret_basic': '密钥（HTTP Basic，推荐）',
  'admin.client.auth.client_secret_post': '密钥（表单提交）',
  'admin.client.auth.private_key_jwt': '私钥签名（private_key_jwt）',
  'client.invalid.client_id':
    '网站标识须为 3–64 位小写字母、数字或 . _ -，以字母或数字开头；一通自用的标识（如 yitong-account）不能登记，请换一个。',
  'client.invalid.client_name': '请填写网站名称（1–100 字，一行）。',
  'client.invalid.department': '请填写主办部门（1–100 字，一行）。',
  'client.invalid.region_code': '请填写 6 位行政区划代码，如 440100。',
  'client.invalid.grant_types': '请至少选择一种授权方式。',
  'client.invalid.token_endpoint_auth_method': '这种认证方式不适用：服务账号必须使用密钥。',
  'client.invalid.redirect_uris':
    '请填写至少一个返回地址，每行一个，须为完整的 https:// 网址（开发环境可用 http://localhost）；只有服务账号可以不填。',
  'client.invalid.post_logout_redirect_uris': '退出后返回的地址须为完整的 https:// 网址，每行一个。',
  'client.invalid.backchannel_logout_uri': '后台退出通知地址须为完整的 https:// 网址。',
  'client.invalid.backchannel_logout_session_required': '请确认是否在通知中包含会话标识。',
  'client.invalid.scope':
    '授权范围只能包含 openid、offline_access、profile、phone、email、id_number、legal_person，用空格分隔；登录用户的网站须包含 openid。',
  'client.invalid.other': '登记信息不符合要求，请检查后重试（{problems}）。',
  'legal_person.level':
    '申请人自称法定代表人，但尚未完成实名核验（2 级），管理员不能确认：请申请人携带居民身份证和营业执照到政务服务大厅当面办理。',
  'error.code': '错误代码：{code}',
  'oidc.unregistered_return':
    '“{site}”要求登录后把您带到一个没有在一通登记的网址。为保护您的账号，一通没有跳转。请回到您原来访问的网站重新进入，或从一通首页的政务服务中找到它；如问题持续，请联系该网站的主办部门。',
  'oidc.unknown_site':
    '这个登录请求来自一个没有在一通登记的网站，一通不会为它登录您的账号。请从一通首页的政务服务中找到您要办理的业务。',
  'admin.client.old_secret':
    '旧密钥在 {time}（北京时间）前仍然有效：请在此之前把新密钥配置到网站的每台服务器。',
  'admin.client.old_secret_ended': '旧密钥已立即停用。',
  'admin.client.rotate_now': '更换密钥并立即停用旧密钥（密钥泄露时）',
  'releases.csv.header': '时间（北京时间）|网站|主办部门|方式|提供的信息|核验信息（来源部门）|用途',
  'releases.purpose': '用途：{purpose}',
  'releases.items': '核验信息：{items}',
  'releases.item': '{item}（{source}）',
  'releases.service': '办理事项 {item}，用途：{purpose}',
  'releases.what': '{use}：{claims}',
  'entity.with_role': '{name}（{role}）',
  'account.done.phone_proved': '手机号码已验证。网站在您同意后可以获取这个号码，找回密码也会用到它。',
  'stepup.page': '这个页面只对使用第二重验证登录的人开放。',
  'stepup.own': '您正在登录 {site}（{department}）。您的账号设置了第二重验证，每次登录都需要。',
  'confirm.back': '返回，不做更改',
  'confirm.revoke.title': '撤销授权',
  'confirm.revoke':
    '撤销后，{department}的“{site}”不能再获取您的信息，您在该网站的登录也会结束。以后再使用该网站时，需要重新同意授权。',
  'confirm.signout.title': '在所有设备上退出',
  'confirm.signout': '您在所有设备和所有网站上的登录都会结束，包括正在使用的这台设备。之后需要重新登录。',
  'confirm.lock.title': '锁定账号',
  'confirm.lock':
    '锁定后，{name}（{id}）不能登录任何网站，已有的登录全部结束，直到管理员解锁。此操作记录在审计日志中。',
  'confirm.sign_out_person.title': '强制退出所有登录',
  'confirm.sign_out_person': '{name}（{id}）在所有设备和网站上的登录都会结束。此操作记录在审计日志中。',
  'confirm.deregister.title': '注销单位',
  'confirm.deregister':
    '注销后，统一社会信用代码为 {code} 的单位不能再由任何人代表办理业务，已授权的经办人全部失效。此操作记录在审计日志中。',
  'login.forgot': '忘记密码？',
  'recover.title': '找回密码',
  'recover.lead':
    '请输入身份证号码和账号已验证的手机号码。号码相符时，我们会向该手机发送验证码；之后您可以设置新密码。',
  'recover.phone.hint': '账号中已通过短信验证的 11 位手机号码',
  'recover.submit': '发送验证码',
  'recover.counter.title': '没有验证过的手机号？',
  'recover.counter':
    '如果账号没有验证过手机号码，或该号码已停用，请携带居民身份证到任一政务服务大厅，窗口工作人员当面核验后可为您重置密码。',
  'recover.code.title': '输入验证码',
  'recover.code.lead': '如果 {phone} 是该账号已验证的手机号码，验证码已发送到这个号码，10 分钟内有效。',
  'recover.code.lead_again': '请输入发送到账号已验证手机号码的 6 位验证码，10 分钟内有效。',
  'recover.code.submit': '下一步',
  'recover.code.none': '没有收到验证码？请确认身份证号码和手机号码是否与账号一致。',
  'recover.again': '重新填写',
  'recover.factor.title': '验证第二重身份',
  'recover.factor.lead': '您的账号设置了通行密钥或身份验证器，请再用其中之一确认是您本人。',
  'recover.factor.lost':
    '通行密钥和身份验证器都无法使用？请携带居民身份证到政务服务大厅，由工作人员当面核验后重置密码。',
  'recover.done':
    '新密码已生效，您在所有设备和网站上的登录均已退出，请用新密码重新登录。我们已向您的手机发送通知。',
  'recovery.expired': '找回密码的请求已过期或无效，请重新填写身份证号码和手机号码。',
  'recovery.too_many': '验证码错误次数过多，本次找回已失效。请重新开始，获取新的验证码。',
  'recovery.privileged':
    '管理员和窗口工作人员的账号不能只凭手机验证码找回密码。请联系您的上级管理员在管理后台为您重置；重置后请在个人中心添加验证器或通行密钥。',
  'rate.recover':
    '找回密码的验证码发送次数过多，请在 {minutes} 分钟后再试；也可以携带身份证到政务服务窗口，由工作人员为您重置密码。',
  'staff.reset': '重置密码（本人忘记密码）',
  'staff.reset.title': '为 {name} 重置密码',
  'staff.reset.lead':
    '请本人用自己的手机扫描二维码（或打开下方链接）设置新密码，30 分钟内有效，只能使用一次。不要替本人输入密码。',
  'staff.reset.qr': '设置新密码的链接二维码',
  'reset.unproved_phone':
    '该账号没有已验证的手机号码，不能发送重置链接：未经验证码确认的号码可能不属于本人。请本人携带居民身份证到政务服务大厅，由窗口工作人员核验后重置密码。',
  'admin.person.reset_unavailable':
    '不能发送重置密码链接：该账号没有已验证的手机号码。请本人携带居民身份证到政务服务大厅办理。',
};

export const frontEn: Record<keyof typeof frontZh, string> = {
  'home.sign_in': 'Sign in',
  'home.my_page': 'Go to My page',
  'home.signed_in': 'You are signed in as {name}.',
  'services.other': 'Other services',
  'nav.signout': 'Sign out',
  'list.separator': ', ',
  'admin.clients.enabled': 'enabled',
  'admin.client.status': 'Status',
  'admin.client.kind.service': 'service account',
  'admin.client.redirect_uris.hint':
    'Where people return to the site after signing in, one per line, https:// only. A service account has none.',
  'admin.client.post_logout': 'After sign-out, return to',
  'admin.client.post_logout.hint': 'Where the site’s own sign-out returns people, one per line (optional).',
  'admin.client.backchannel': 'Back-channel logout URI',
  'admin.client.backchannel.hint':
    'When a person signs out at Yitong or another site, Yitong tells the site here (optional).',
  'admin.client.backchannel_sid': 'Include the session id (sid), so the site ends just that sign-in',
  'admin.client.scope.hint':
    'Space-separated, e.g. openid profile phone; a site people sign in to includes openid.',
  'admin.client.grants': 'Grant types',
  'admin.client.grant.authorization_code': 'people sign in (authorization code)',
  'admin.client.grant.refresh_token': 'stay signed in (refresh tokens)',
  'admin.client.grant.client_credentials':
    'a service account calls APIs (client credentials; alone, it makes a service account)',
  'admin.client.auth': 'How the site’s backend authenticates',
  'admin.client.auth.client_secret_basic': 'secret (HTTP Basic, recommended)',
  'admin.client.auth.client_secret_post': 'secret (in the form body)',
  'admin.client.auth.private_key_jwt': 'signed with its private key (private_key_jwt)',
  'client.invalid.client_id':
    'The client id is 3–64 characters of a–z, 0–9, . _ -, starting with a letter or digit; one Yitong uses for itself (such as yitong-account) is reserved: choose another.',
  'client.invalid.client_name': 'Give the site’s name (1–100 characters, one line).',
  'client.invalid.department': 'Give the department (1–100 characters, one line).',
  'client.invalid.region_code': 'Give a 6-digit division code, e.g. 440100.',
  'client.invalid.grant_types': 'Choose at least one grant type.',
  'client.invalid.token_endpoint_auth_method':
    'This method does not fit: a service account authenticates with a secret.',
  'client.invalid.redirect_uris':
    'Give at least one return address, one per line, each a full https:// URL (http://localhost in development); only a service account has none.',
  'client.invalid.post_logout_redirect_uris':
    'Each after-sign-out address is a full https:// URL, one per line.',
  'client.invalid.backchannel_logout_uri': 'The back-channel logout URI is a full https:// URL.',
  'client.invalid.backchannel_logout_session_required': 'Say whether the notice carries the session id.',
  'client.invalid.scope':
    'Scopes are among openid, offline_access, profile, phone, email, id_number, legal_person, space-separated; a site people sign in to includes openid.',
  'client.invalid.other': 'The registration is not valid; check it and try again ({problems}).',
  'legal_person.level':
    'The claimant says they are the legal representative but has not verified their identity (level 2), so an administrator cannot confirm it: the claimant brings their identity card and business licence to a government service hall.',
  'error.code': 'Error code: {code}',
  'oidc.unregistered_return':
    '“{site}” asked to send you, after signing in, to an address it never registered with Yitong. To protect your account, Yitong did not go there. Go back to the site you came from, or find it among the government services on Yitong’s home page; if it persists, contact the site’s department.',
  'oidc.unknown_site':
    'This sign-in request comes from a site not registered with Yitong, so Yitong will not sign you in to it. Find the service you need among the government services on Yitong’s home page.',
  'admin.client.old_secret':
    'The old secret keeps working until {time} (Beijing time): put the new one on every server of the site before then.',
  'admin.client.old_secret_ended': 'The old secret stopped working at once.',
  'admin.client.rotate_now': 'Rotate and end the old secret now (it leaked)',
  'releases.csv.header':
    'Time (Beijing)|Site|Department|How|Information given|Verified items (source)|Purpose',
  'releases.purpose': 'Purpose: {purpose}',
  'releases.items': 'Verified items: {items}',
  'releases.item': '{item} ({source})',
  'releases.service': 'service item {item}, purpose: {purpose}',
  'releases.what': '{use}: {claims}',
  'entity.with_role': '{name} ({role})',
  'account.done.phone_proved':
    'Your mobile number is proved. Sites you agree to can receive it, and password recovery uses it.',
  'stepup.page': 'This page is open only to people signed in with a second factor.',
  'stepup.own':
    'You are signing in to {site} ({department}). Your account has a second factor, needed at every sign-in.',
  'confirm.back': 'Go back, change nothing',
  'confirm.revoke.title': 'Revoke the authorisation',
  'confirm.revoke':
    '“{site}” ({department}) will no longer receive your information, and your sign-in there ends. To use the site again you will be asked to agree again.',
  'confirm.signout.title': 'Sign out everywhere',
  'confirm.signout':
    'Every sign-in on every device and site ends, including this device. You then sign in again.',
  'confirm.lock.title': 'Lock the account',
  'confirm.lock':
    '{name} ({id}) can no longer sign in to any site and every sign-in ends, until an administrator unlocks the account. This is recorded in the audit trail.',
  'confirm.sign_out_person.title': 'Sign out everywhere',
  'confirm.sign_out_person':
    'Every sign-in of {name} ({id}) on every device and site ends. This is recorded in the audit trail.',
  'confirm.deregister.title': 'Deregister the organisation',
  'confirm.deregister':
    'The organisation with unified social credit code {code} can no longer be represented by anyone, and every authorised agent loses their authorisation. This is recorded in the audit trail.',

  'login.forgot': 'Forgot your password?',
  'recover.title': 'Recover your password',
  'recover.lead':
    'Enter your identity number and the mobile number proved on your account. If they match, we send a code to that phone; then you choose a new password.',
  'recover.phone.hint': 'The 11-digit mobile number your account proved by text message',
  'recover.submit': 'Send the code',
  'recover.counter.title': 'No proved mobile number?',
  'recover.counter':
    'If your account never proved a mobile number, or the number is no longer yours, bring your identity card to any government service hall: staff check it in person and start a password reset for you.',
  'recover.code.title': 'Enter the code',
  'recover.code.lead':
    'If {phone} is the number proved on this account, a code has been sent to it. It is valid for 10 minutes.',
  'recover.code.lead_again':
    'Enter the 6-digit code sent to the mobile number proved on the account. It is valid for 10 minutes.',
  'recover.code.submit': 'Next',
  'recover.code.none': 'No code? Check that the identity number and mobile number match your account.',
  'recover.again': 'Start again',
  'recover.factor.title': 'Confirm with your second factor',
  'recover.factor.lead':
    'Your account has a passkey or an authenticator app: use one of them to confirm it is you.',
  'recover.factor.lost':
    'Neither your passkey nor your authenticator app works? Bring your identity card to a government service hall: staff check it in person and reset your password.',
  'recover.done':
    'Your new password works now. You have been signed out on every device and site: sign in again with the new password. A notice went to your phone.',
  'recovery.expired':
    'This password recovery expired or is not valid. Enter your identity number and mobile number again.',
  'recovery.too_many': 'Too many wrong codes: this recovery has ended. Start again to get a new code.',
  'recovery.privileged':
    'An administrator’s or counter staff’s account cannot be recovered with a text message alone. Ask the administrator above you to reset your password in the console; then add an authenticator app or a passkey on My page.',
  'rate.recover':
    'Too many recovery codes were asked for. Try again in {minutes} minutes, or take your identity card to a service hall counter, where staff can reset the password.',
  'staff.reset': 'Reset the password (forgotten)',
  'staff.reset.title': 'Password reset for {name}',
  'staff.reset.lead':
    'The person scans the QR code (or opens the link below) on their own phone and chooses a new password there: valid 30 minutes, once. Never type the password for them.',
  'staff.reset.qr': 'QR code of the link to choose a new password',
  'reset.unproved_phone':
    'This account has no proved mobile number, so no reset link can be sent: a number never confirmed by a code may not be the owner’s. The person brings their identity card to a government service hall, where staff check it and reset the password.',
  'admin.person.reset_unavailable':
    'No reset link can be sent: this account has no proved mobile number. The person can have it reset at a government service hall with their identity card.',
};
