/** Identity mutual trust (issue 17): signing in through an upstream, and its links. */
export const federationZh = {
  'federation.title': '通过其他平台登录',
  'federation.or': '或使用其他平台的账号',
  'federation.back': '回到登录页面',
  'federation.prove':
    '您的一通账号已存在。请用一通密码登录一次以确认是您本人，之后可直接用“{upstream}”登录。',
  'federation.unreachable': '暂时无法连接“{upstream}”。这不是您的问题，请稍后再试，或用一通账号登录。',
  'federation.cancelled': '您在“{upstream}”取消了登录。可以再试一次，或用一通账号登录。',
  'federation.upstream_error': '“{upstream}”没有完成登录。请稍后再试，或用一通账号登录。',
  'federation.refused':
    '“{upstream}”返回的登录结果未通过校验，已拒绝。请稍后再试；如一再出现，请联系一通平台。',
  'federation.claims': '“{upstream}”没有提供有效的身份证号码和姓名，无法登录。',
  'federation.account_locked': '对应的一通账号已被锁定或正在注销，无法登录。请联系政务服务中心。',
  'federation.number_mismatch':
    '该平台账号关联的身份证号码与一通账号不一致，已拒绝登录。请在“我的”页面解除关联后重试。',
  'federation.no_link': '没有与该平台的关联。',
  'federation.logout.lead': '您是通过其他平台登录的，那里的登录仍然有效。在公用电脑上，请一并退出：',
  'federation.logout.at': '退出{upstream}',
  'federation.links': '关联的其他平台账号',
  'federation.links.none': '还没有关联其他平台的账号。',
  'federation.links.lead': '国家政务服务平台或外省账号，可直接用来登录',
  'federation.link.since': '{date} 关联',
  'federation.link.used': '最近一次使用：{time}',
  'federation.removed': '已解除关联。以后用该平台登录时，会按规则重新确认。',
  'federation.unlink': '解除关联',
};

export const federationEn: Record<keyof typeof federationZh, string> = {
  'federation.title': 'Signing in through another platform',
  'federation.or': 'or use an account of another platform',
  'federation.back': 'Back to the sign-in page',
  'federation.prove':
    'You already have a Yitong account. Sign in with your Yitong password once to confirm it is you; then “{upstream}” alone will do.',
  'federation.unreachable':
    '“{upstream}” cannot be reached right now. It is not your fault: try again later, or sign in with your Yitong account.',
  'federation.cancelled':
    'You cancelled the sign-in at “{upstream}”. Try again, or sign in with your Yitong account.',
  'federation.upstream_error':
    '“{upstream}” did not complete the sign-in. Try again later, or sign in with your Yitong account.',
  'federation.refused':
    'What “{upstream}” sent back failed its checks and was refused. Try again later; if it keeps happening, contact Yitong.',
  'federation.claims': '“{upstream}” gave no valid identity number and name, so you cannot sign in with it.',
  'federation.account_locked':
    'The matching Yitong account is locked or being deleted, so you cannot sign in. Contact a service hall.',
  'federation.number_mismatch':
    'This platform account is linked to another identity number than the Yitong account’s; the sign-in was refused. Remove the link on My page and try again.',
  'federation.no_link': 'There is no link to that platform.',
  'federation.logout.lead':
    'You signed in through another platform, where you are still signed in. On a shared computer, sign out there too:',
  'federation.logout.at': 'Sign out of {upstream}',
  'federation.links': 'Accounts of other platforms linked',
  'federation.links.none': 'No account of another platform is linked yet.',
  'federation.links.lead': 'Accounts of the national platform or another province you sign in with',
  'federation.link.since': 'linked on {date}',
  'federation.link.used': 'last used {time}',
  'federation.removed': 'The link is removed. Signing in through that platform again confirms it afresh.',
  'federation.unlink': 'Remove the link',
};
