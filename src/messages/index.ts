import { adminEn, adminZh } from './admin.ts';
import { attributesEn, attributesZh } from './attributes.ts';
import { auditEn, auditZh } from './audit.ts';
import { authEn, authZh } from './auth.ts';
import { developersEn, developersZh } from './developers.ts';
import { federationEn, federationZh } from './federation.ts';
import { frontEn, frontZh } from './front.ts';
import { legalEn, legalZh } from './legal.ts';
import { portalEn, portalZh } from './portal.ts';
import { signInEn, signInZh } from './sign-in.ts';

/** Every string a person reads, in zh-CN (the default) and English. `{name}` is interpolated. */
const zh = {
  'app.name': '一通',
  'app.tagline': '全省统一身份认证平台 · 一号一网',
  'nav.language': 'English',
  'nav.skip': '跳到主要内容',
  'home.title': '统一身份认证',
  'home.lead': '一个账号，登录全省各部门政务服务网站。',
  'home.register': '注册个人账号',
  'home.how': '在任一接入一通的部门网站点击“使用一通账号登录”即可登录。',
  'login.title': '登录',
  'login.lead': '请使用居民身份证号码和密码登录。',
  'login.site': '您正在登录 {site}（{department}）。',
  'login.submit': '登录',
  'login.register': '还没有账号？注册',
  'login.cancel': '取消，返回网站',
  'field.id_number': '居民身份证号码',
  'field.id_number.hint': '18 位，末位可能是 X',
  'field.name': '姓名',
  'field.phone': '手机号码',
  'field.password': '密码',
  'field.password.hint': '至少 8 位，不要使用身份证号码或常见密码',
  'field.password_confirm': '确认密码',
  'register.title': '注册个人账号',
  'register.lead': '请填写与居民身份证一致的信息。身份证号码加密保存，仅在您同意时提供给网站。',
  'register.submit': '注册',
  'register.done.title': '注册申请已处理',
  'register.done.lead':
    '请使用身份证号码和刚设置的密码登录。如果无法登录，说明该号码此前已注册过（我们已通知其验证过的手机）：请点“忘记密码”，用该账号验证过的手机号码找回密码；没有验证过的手机号码的，请携带身份证到政务服务窗口办理。',
  'register.have_account': '已有账号？登录',
  'error.title': '出错了',
  'error.back': '返回首页',
  'error.request_id': '如需帮助，请向客服提供此编号：{id}',
  'id_number.required': '请输入居民身份证号码。',
  'id_number.length': '身份证号码应为 18 位，请检查是否多输或漏输。',
  'id_number.charset': '身份证号码前 17 位应为数字，最后一位为数字或 X。',
  'id_number.region': '身份证号码前两位不是有效的省级行政区划代码，请检查。',
  'id_number.date': '身份证号码第 7–14 位不是有效的出生日期，请检查。',
  'id_number.future': '身份证号码中的出生日期晚于今天，请检查。',
  'id_number.check': '身份证号码校验位不正确，请逐位核对，尤其是最后一位。',
  'name.invalid': '请输入与身份证一致的姓名（1–50 个字）。',
  'name.letters': '姓名须以文字开头，不能只有标点、空格或显示不出来的字符。',
  'name.marks': '姓名中的附加符号（如声调符号）位置不对或叠加过多，请按身份证输入。',
  'name.scripts':
    '姓名中混用了拉丁字母和西里尔或希腊字母（如西里尔字母 А 看起来和 A 一样），请只用一种文字输入。',
  'phone.invalid': '请输入 11 位中国大陆手机号码。',
  'password.short': '密码至少需要 8 位。',
  'password.long': '密码不能超过 128 位。',
  'password.weak': '此密码过于常见或包含身份证号码，请换一个。',
  'password.mismatch': '两次输入的密码不一致。',
  'account.exists': '该身份证号码已注册。请直接登录；如忘记密码，请找回账号。',
  'account.credentials': '身份证号码或密码不正确。',
  'account.locked': '该账号已被锁定，请联系客服或前往政务服务大厅办理。',
  'rate.account': '登录失败次数过多，为保护您的账号，请在 {minutes} 分钟后再试。',
  'rate.ip': '来自您网络的尝试过于频繁，请在 {minutes} 分钟后再试。',
  'rate.register': '注册请求过于频繁，请在 {minutes} 分钟后再试。',
  'csrf.invalid': '页面已过期，请刷新后重新提交。',
  'request.invalid': '请求无效：{detail}。',
  'reason.form_expected': '应以表单提交',
  'reason.not_utf8': '提交的内容不是 UTF-8 编码',
  'reason.path_not_utf8': '网址不是有效的 UTF-8 编码',
  'reason.not_json': '提交的内容不是有效的 JSON',
  'reason.json_object': '提交的内容应为一个 JSON 对象',
  'reason.text': '提交的内容含有无法保存的字符（NUL 字符或残缺的 Unicode 字符），或嵌套层次过深',
  'reason.whole_number': '{name} 应为 {min} 到 {max} 之间的整数',
  'reason.cut_off': '请求不完整或格式有误',
  'reason.bad_value': '提交的某个值在这里不被接受',
  'reason.form_fields': '提交的内容缺少这个表单的字段，请从页面上的表单提交',
  'reason.https': '请通过 HTTPS 访问',
  'reason.host': '主机名 {host} 不是一通的网址',
  'reason.method': '此网址不接受 {method} 请求',
  'reason.target': '请求行应只写路径（如 /auth），不写协议和主机',
  'reason.logout_token': '退出令牌（logout_token）缺失或无效',
  'request.too_large': '提交的内容过大。',
  'server.error':
    '一通出现了内部错误，这不是您所访问网站的问题。请稍后再试；如问题持续，请向客服提供下方编号。',
  'service.unavailable.title': '服务暂时不可用',
  'service.unavailable':
    '一通统一身份认证服务暂时不可用。这不是您正在办理业务的网站的问题，您的账号和资料也不会因此丢失。请等待约 1 分钟后刷新本页重试；如长时间无法使用，可拨打 12345 政务服务便民热线反映。',
  ...signInZh,
  ...authZh,
  ...legalZh,
  ...adminZh,
  ...portalZh,
  ...frontZh,
  ...auditZh,
  ...attributesZh,
  ...federationZh,
  ...developersZh,
};

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  'app.name': 'Yitong',
  'app.tagline': 'Provincial unified identity · one number, one network',
  'nav.language': '中文',
  'nav.skip': 'Skip to main content',
  'home.title': 'Unified sign-in',
  'home.lead': 'One account for every government service website of the province.',
  'home.register': 'Create a personal account',
  'home.how': 'On any department website connected to Yitong, choose “Sign in with Yitong”.',
  'login.title': 'Sign in',
  'login.lead': 'Sign in with your resident identity number and password.',
  'login.site': 'You are signing in to {site} ({department}).',
  'login.submit': 'Sign in',
  'login.register': 'No account yet? Register',
  'login.cancel': 'Cancel and return to the site',
  'field.id_number': 'Resident identity number',
  'field.id_number.hint': '18 characters; the last may be X',
  'field.name': 'Name',
  'field.phone': 'Mobile phone number',
  'field.password': 'Password',
  'field.password.hint': 'At least 8 characters; not your identity number or a common password',
  'field.password_confirm': 'Confirm password',
  'register.title': 'Create a personal account',
  'register.lead':
    'Enter the details exactly as on your identity card. Your identity number is stored encrypted and given to a site only with your consent.',
  'register.submit': 'Register',
  'register.done.title': 'Registration done',
  'register.done.lead':
    'Sign in with your identity number and the password you just chose. If that fails, the number was registered before (its proved mobile number has been told): choose “Forgot your password?” to recover it with that account’s proved mobile number; without one, bring your identity card to a service counter.',
  'register.have_account': 'Already registered? Sign in',
  'error.title': 'Something went wrong',
  'error.back': 'Back to the home page',
  'error.request_id': 'If you need help, give support this reference: {id}',
  'id_number.required': 'Enter your resident identity number.',
  'id_number.length': 'An identity number has 18 characters: check for a missing or extra one.',
  'id_number.charset': 'The first 17 characters must be digits and the last a digit or X.',
  'id_number.region': 'The first two digits are not a valid province code: check them.',
  'id_number.date': 'Characters 7–14 are not a real date of birth: check them.',
  'id_number.future': 'The date of birth in the number is after today: check it.',
  'id_number.check': 'The check character does not match: check each character, especially the last.',
  'name.invalid': 'Enter your name as on your identity card (1–50 characters).',
  'name.letters':
    'A name must begin with a letter, and cannot be only punctuation, spaces or characters that do not show.',
  'name.marks':
    'The name has accent marks out of place or too many stacked on one letter: type it as on your identity card.',
  'name.scripts':
    'The name mixes Latin letters with Cyrillic or Greek ones (Cyrillic А looks just like A): type it in one script.',
  'phone.invalid': 'Enter an 11-digit mainland China mobile number.',
  'password.short': 'The password needs at least 8 characters.',
  'password.long': 'The password may have at most 128 characters.',
  'password.weak': 'This password is too common or contains your identity number: choose another.',
  'password.mismatch': 'The two passwords do not match.',
  'account.exists':
    'This identity number is already registered. Sign in, or recover the account if you forgot the password.',
  'account.credentials': 'The identity number or password is not correct.',
  'account.locked': 'This account is locked. Contact support or visit a government service hall.',
  'rate.account': 'Too many failed attempts. To protect your account, try again in {minutes} minutes.',
  'rate.ip': 'Too many attempts from your network. Try again in {minutes} minutes.',
  'rate.register': 'Too many registrations. Try again in {minutes} minutes.',
  'csrf.invalid': 'This page has expired. Reload it and submit again.',
  'request.invalid': 'Invalid request: {detail}.',
  'reason.form_expected': 'form expected',
  'reason.not_utf8': 'the body is not valid UTF-8',
  'reason.path_not_utf8': 'the path is not valid UTF-8',
  'reason.not_json': 'the body is not valid JSON',
  'reason.json_object': 'a JSON object expected',
  'reason.text':
    'a value holds a character that cannot be stored (NUL or broken Unicode) or nests too deeply',
  'reason.whole_number': '{name} must be a whole number from {min} to {max}',
  'reason.cut_off': 'the request was cut off or malformed',
  'reason.bad_value': 'a value is not allowed here',
  'reason.form_fields': 'none of this form’s fields were sent; submit the form on the page',
  'reason.https': 'HTTPS is required',
  'reason.host': 'unknown host {host}',
  'reason.method': 'this address does not take {method} requests',
  'reason.target': 'the request line must name a path (such as /auth), not a scheme and host',
  'reason.logout_token': 'the logout_token is missing or not valid',
  'request.too_large': 'What you submitted is too large.',
  'server.error':
    'Yitong ran into an internal error; it is not the site’s fault. Try again later; if it keeps happening, give support the reference below.',
  'service.unavailable.title': 'Briefly unavailable',
  'service.unavailable':
    'Yitong, the province’s sign-on service, is briefly unavailable. This is not the fault of the site you were using, and your account and data are safe. Wait a minute, then reload this page. If it lasts, call the 12345 government service hotline.',
  ...signInEn,
  ...authEn,
  ...legalEn,
  ...adminEn,
  ...portalEn,
  ...frontEn,
  ...auditEn,
  ...attributesEn,
  ...federationEn,
  ...developersEn,
};

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

const catalogues: Record<Locale, Record<MessageKey, string>> = { 'zh-CN': zh, en };

/** Why a request was refused (`request.invalid`'s `{detail}`): a message of its own, in each language. */
export type Reason = Extract<MessageKey, `reason.${string}`>;

/**
 * The message with `{name}` filled in. Only `{detail}` may name a `reason.*` message, which is
 * then that message, filled in the same way but one level only: every other value is shown as
 * given, even one that reads like a key (a person's name, a Host header).
 */
export function translate(
  locale: Locale,
  key: MessageKey,
  params: Record<string, string | number> = {},
  expandDetail = true,
): string {
  return catalogues[locale][key].replace(/\{(\w+)\}/g, (whole, name) => {
    const value = params[name];
    if (expandDetail && name === 'detail' && typeof value === 'string' && isReason(value))
      return translate(locale, value, params, false);
    return String(value ?? whole);
  });
}

const isReason = (value: string): value is Reason => value.startsWith('reason.') && isMessageKey(value);

export function isMessageKey(key: string): key is MessageKey {
  return key in zh;
}
