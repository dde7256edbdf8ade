/** Strings of signing in to a site and out of it: consent, scopes, the engine's error and logout pages (merged in index.ts). */
export const signInZh = {
  'consent.title': '授权',
  'consent.lead': '{department}的“{site}”请求获取您的以下信息：',
  'consent.remember': '同意后，下次登录该网站不再询问，除非它请求新的信息。',
  'consent.allow': '同意并继续',
  'consent.deny': '拒绝',
  'consent.signed_in_as': '当前账号：{name}（{id}）',
  'consent.items': '各部门核验过的信息',
  'consent.remember.purpose': '这次请求说明了办理事项和用途，每次办理都会再问您。',
  'consent.items.hint': '不勾选的项目不会提供给该网站。标为“必需”的项目不提供就无法办理，可以选择拒绝。',
  'consent.item.source': '{department}核验于 {date}',
  'consent.item.none': '暂无记录，不会提供',
  'consent.item.sensitive': '敏感',
  'consent.item.required': '必需',
  'consent.purpose': '办理事项：{item}（{code}）。用途：{purpose}',
  'scope.openid': '账号标识（每个人唯一、不含个人信息的编号）',
  'scope.profile': '姓名、性别、出生日期和实名等级',
  'scope.phone': '手机号码',
  'scope.phone.unproved': '手机号码：您的号码尚未验证，不会提供给该网站（可在个人中心验证）',
  'scope.email': '电子邮箱',
  'scope.id_number': '居民身份证号码',
  'scope.offline_access': '在您离开后继续访问上述信息（用于保持登录）',
  'logout.title': '退出登录',
  'logout.lead': '是否退出一通账号？您将同时退出所有已登录的部门网站。',
  'logout.confirm': '退出登录',
  'logout.cancel': '保持登录',
  'logout.done.title': '已退出登录',
  'logout.done.lead': '您已退出一通账号及所有部门网站。',
  'logout.unverified': '一通无法核实是哪个网站请您退出，因此退出后您会留在一通，不会被带往该网站提供的地址。',
  'logout.offline':
    '您曾允许{sites}长期访问您的资料（离线访问）。退出登录不会收回这项授权；如需收回，请到个人中心的“已授权的网站”中撤销。',
  'logout.still_signed_in': '您仍登录着一通。如需现在退出，请点击下方按钮。',
  'interaction.expired': '登录请求已过期或无效。请回到您要使用的网站，重新点击“登录”。',
  'site_request.not_form':
    '网站发来的请求格式不对，一通无法读取。请回到该网站重试；如问题持续，请告知该网站：请求须以普通表单（application/x-www-form-urlencoded）提交。',
  'site_request.not_utf8':
    '网站发来的请求不是 UTF-8 编码，一通无法读取。请回到该网站重试；如问题持续，请告知该网站：表单须以 UTF-8 提交（accept-charset="UTF-8"）。',
  'site_request.too_large':
    '网站发来的请求过大（超过 {max} 字节），一通无法处理。请回到该网站重试；如问题持续，请告知该网站：请求参数不能超过 {max} 字节，较大的授权请求须用 PAR（推送授权请求）发送。',
  not_found: '页面不存在。',
  'oidc.error': '网站发来的登录请求有误（{error}）。请返回该网站重试；如问题持续，请联系该网站的主办部门。',
  'oidc.logout_error':
    '网站发来的退出请求有误（{error}）。请返回该网站重试；如问题持续，请联系该网站的主办部门。',
  'oidc.detail': '给网站开发人员的说明：{detail}',
};

export const signInEn: Record<keyof typeof signInZh, string> = {
  'consent.title': 'Allow access',
  'consent.lead': '“{site}” of {department} asks for the following information about you:',
  'consent.remember': 'If you allow it, this site will not ask again unless it requests new information.',
  'consent.allow': 'Allow and continue',
  'consent.deny': 'Deny',
  'consent.signed_in_as': 'Signed in as {name} ({id})',
  'consent.items': 'Information verified by departments',
  'consent.remember.purpose': 'This request states a service and purpose: you are asked each time.',
  'consent.items.hint':
    'Items you untick are not given to the site. Without an item marked “required” the service cannot go on; you can decline instead.',
  'consent.item.source': 'Verified by {department} on {date}',
  'consent.item.none': 'Nothing on record; nothing will be given',
  'consent.item.sensitive': 'sensitive',
  'consent.item.required': 'required',
  'consent.purpose': 'Service: {item} ({code}). Purpose: {purpose}',
  'scope.openid': 'An account identifier (a number unique to you that contains no personal data)',
  'scope.profile': 'Your name, gender, date of birth and identity level',
  'scope.phone': 'Your mobile phone number',
  'scope.phone.unproved':
    'Your mobile number: not verified yet, so it is not given to this site (verify it on My page)',
  'scope.email': 'Your email address',
  'scope.id_number': 'Your resident identity number',
  'scope.offline_access': 'Access to the above while you are away (to keep you signed in)',
  'logout.title': 'Sign out',
  'logout.lead': 'Sign out of Yitong? You will also be signed out of every department website.',
  'logout.confirm': 'Sign out',
  'logout.cancel': 'Stay signed in',
  'logout.done.title': 'Signed out',
  'logout.done.lead': 'You are signed out of Yitong and of every department website.',
  'logout.unverified':
    'Yitong could not verify which site asked to sign you out, so after signing out you stay on Yitong rather than going to the address that site gave.',
  'logout.offline':
    'You allowed {sites} long-term access to your data (offline access). Signing out does not take it back; to do so, revoke it under “Connected sites” on My page.',
  'logout.still_signed_in': 'You are still signed in to Yitong. To sign out now, use the button below.',
  'interaction.expired':
    'This sign-in request has expired or is not valid. Go back to the site you were using and choose “Sign in” again.',
  'site_request.not_form':
    'The site sent a request Yitong cannot read. Go back to the site and try again; if it keeps happening, tell the site that requests must be sent as an ordinary form (application/x-www-form-urlencoded).',
  'site_request.not_utf8':
    'The site sent a request that is not UTF-8, which Yitong cannot read. Go back to the site and try again; if it keeps happening, tell the site that forms must be sent as UTF-8 (accept-charset="UTF-8").',
  'site_request.too_large':
    'The site sent a request too large for Yitong (over {max} bytes). Go back to the site and try again; if it keeps happening, tell the site that a request’s parameters must stay within {max} bytes, and that larger authorization requests must be sent with PAR (pushed authorization requests).',
  not_found: 'Page not found.',
  'oidc.error':
    'The sign-in request from the website is not valid ({error}). Go back to the site and try again; if it keeps happening, contact the department that runs it.',
  'oidc.logout_error':
    'The sign-out request from the website is not valid ({error}). Go back to the site and try again; if it keeps happening, contact the department that runs it.',
  'oidc.detail': 'For the site’s developers: {detail}',
};
