/** The developer page (`/developers`): what a department needs to connect its site to Yitong. */
export const developersZh = {
  'developers.title': '面向部门开发者',
  'developers.lead':
    '部门网站通过 OpenID Connect 接入一通：居民登录一次，即可在全省各部门网站之间通行。本页的地址、范围、信息项、登录强度和有效期都取自正在运行的这个一通实例。',
  'developers.register':
    '接入前，请省级运维人员按网站的客户端清单登记（yitong clients add），或请本地区管理员在管理控制台登记。客户端密钥只显示一次。',
  'developers.discovery.title': '发现文档',
  'developers.discovery.lead': '端点地址、支持的范围和算法都在发现文档中，请由程序读取，不要把地址写死：',
  'developers.protocol':
    '只支持授权码流程，必须使用 PKCE（S256）；授权请求和退出请求可以用链接（GET）或表单（POST）发送，POST 的参数须为 UTF-8、不超过 6 KiB，更大的授权请求请用 PAR；两种方式的参数都会出现在浏览器历史和访问日志中，机密内容请用 PAR 发送；DPoP 证明的 iat 不能超前 60 秒以上；授权响应带 iss 参数；ID 令牌默认用 ES256 签名（自助注册时未指定则按 OpenID Connect 动态注册规范用 RS256），登记中可改为 RS256 或 PS256；客户端认证方式为 client_secret_basic、client_secret_post 或 private_key_jwt；回调地址逐字精确匹配。',
  'developers.keys':
    '签名密钥（JWKS，地址是发现文档中的 jwks_uri）会轮换：新密钥先在 JWKS 中公布，{delay} 小时后才开始签名。令牌的 kid 不在缓存的 JWKS 中时，请重新获取 JWKS（常用的库默认如此）；缓存 JWKS 不要超过 Cache-Control 给出的 {maxAge} 分钟，最长也不要超过 {delay} 小时。停用的密钥会从 JWKS 中删除，它签发的令牌随即无法验证。',
  'developers.scopes.title': '范围',
  'developers.scopes.lead':
    '网站只会获得登记中列出的范围：授权请求中多出的范围被略去（令牌响应的 scope 写明实际授予的范围；PAR 或签名请求则以 invalid_scope 拒绝）。每项信息都在授权页向居民说明，居民同意后才提供。',
  'developers.scopes.scope': '范围',
  'developers.scopes.claims': '提供的信息',
  'developers.scopes.consent': '授权页上的说明',
  'developers.scope_note.offline_access': '刷新令牌（见“刷新令牌”）',
  'developers.scope_note.admin': '管理 API（客户端凭据模式，仅限省级指定的网站）',
  'developers.scope_note.admin:read': '只读的管理 API（客户端凭据模式，仅限省级指定的网站）',
  'developers.claims.title': '信息的格式和位置',
  'developers.claims.lead':
    '授权码流程中，ID 令牌只含登录本身的信息、账号标识和 legal_person；其他信息请用访问令牌调用 UserInfo 端点获取。',
  'developers.claims.claim': '信息',
  'developers.claims.meaning': '含义',
  'developers.claims.format': '格式',
  'developers.claims.where': '位置',
  'developers.place.id_token': '仅 ID 令牌',
  'developers.place.both': 'ID 令牌和 UserInfo',
  'developers.place.userinfo': '仅 UserInfo',
  'claim.sid': '一通会话标识',
  'developers.format.sub':
    '随机、稳定、不透明的字符串，不是身份证号码；登记为 pairwise 的网站得到本网站专用的值',
  'developers.format.acr': '下文“登录强度”中的一个值',
  'developers.format.amr': '字符串数组，如 ["pwd", "otp", "mfa"]',
  'developers.format.auth_time': '登录时间，Unix 时间（秒）',
  'developers.format.sid':
    '一通会话标识；仅当网站登记了 backchannel_logout_session_required: true 时出现，与注销令牌中的 sid 相同',
  'developers.format.name': '与居民身份证一致的姓名',
  'developers.format.gender': 'male 或 female（由身份证号码得出）',
  'developers.format.birthdate': 'YYYY-MM-DD（由身份证号码得出）',
  'developers.format.identity_level': '整数 1、2 或 3（见“实名等级”）',
  'developers.format.phone_number': '+86 加 11 位号码，如 +8613800138000；只提供验证过的号码（见下文）',
  'developers.format.phone_number_verified': '有 phone_number 时总是 true',
  'developers.format.email': '一通目前不收集电子邮箱，不会提供此项',
  'developers.format.email_verified': '同上，不会提供',
  'developers.format.id_number': '18 位居民身份证号码，末位可能是 X',
  'developers.format.legal_person':
    '对象：credit_code、name、type、status、role、sub（单位自己的标识）；仅在居民代表某单位时出现',
  'developers.format.verified_claims':
    'OpenID Connect for Identity Assurance 1.0 的 verified_claims：每类信息一个元素，verification（trust_framework cn_yitong、assurance_level、time、evidence）加 claims',
  'developers.format.file': '分布式声明（_claim_names / _claim_sources）：证照库地址和 5 分钟有效的访问令牌',
  'developers.place.verified': '按范围请求：仅 UserInfo；按 claims 参数请求：所请求之处',
  'developers.claims.file': '{name}的证照文件',
  'developers.verified.title': '核验过的信息与电子证照',
  'developers.verified.lead':
    '各部门核验过的信息按类型提供：请求类型的范围（verified:类型代码）得到整个元素，或用 claims 参数（对象形式；不支持数组形式）只请求需要的部分，可用 value、values、max_age 筛选。居民在授权页逐项同意；未同意、已撤回、已过期或已注销的不会提供。',
  'developers.verified.rules':
    '敏感类型须在 authorization_details 中说明办理事项（须是登记中 service_items 列出的事项编码）和用途，否则请求被拒绝（invalid_request）。',
  'developers.verified.sensitive': '敏感：须说明事项和用途',
  'developers.phone.title': '何时提供手机号码',
  'developers.phone.lead':
    '只提供居民用短信验证码验证过的号码。注册时填写但未验证的号码可能属于任何人，不会提供：授权页会告诉居民该网站得不到号码，UserInfo 中也没有 phone_number。居民验证号码后，下次获取即可得到。',
  'developers.acr.title': '登录强度（acr）',
  'developers.acr.lead':
    'ID 令牌中的 acr 说明本次登录实际使用的方式，由弱到强如下。网站可用 acr_values 请求（所列值中最弱的一个即可满足），或在登记中设置 default_acr_values 作为下限；会话不够强时，一通只要求补充缺少的那一重验证；使用 prompt=none 时网站收到 login_required。max_age 强制重新登录。',
  'developers.acr.how': '登录方式',
  'developers.signin.pwd': '身份证号码和密码',
  'developers.signin.pwd_otp': '密码加身份验证器验证码',
  'developers.signin.hwk': '通行密钥（绑定设备）',
  'developers.signin.swk': '通行密钥（可同步）',
  'developers.signin.pwd_hwk': '先输入密码，再用通行密钥',
  'developers.level.title': '实名等级（identity_level）',
  'developers.level.lead':
    '1：自行注册，号码有效；2：姓名和号码经权威数据源核验；3：在政务服务窗口当面核验。网站可在登记中设置 min_identity_level（1–3）：等级不够的居民会看到提升等级的办法，不会被放行；使用 prompt=none 时网站收到 interaction_required。',
  'developers.lifetimes.title': '有效期',
  'developers.lifetimes.lead': '以令牌响应中的 expires_in 为准；下表是当前设置。',
  'developers.lifetimes.what': '项目',
  'developers.lifetimes.ttl': '有效期',
  'developers.lifetimes.notes': '说明',
  'developers.lifetime.authorizationCode': '授权码',
  'developers.lifetime.authorizationCode.note': '只能使用一次；重复使用会吊销由它签发的令牌',
  'developers.lifetime.accessToken': '访问令牌',
  'developers.lifetime.accessToken.note': '用于调用 UserInfo；过期后用刷新令牌换新',
  'developers.lifetime.idToken': 'ID 令牌',
  'developers.lifetime.idToken.note': '证明这次登录；退出时作为 id_token_hint 发送',
  'developers.lifetime.refreshToken': '刷新令牌',
  'developers.lifetime.refreshToken.note':
    '从签发时起算；每次使用都换发新的刷新令牌，旧令牌再次使用会吊销整个授权（fapi2 网站的刷新令牌不换发，同一令牌用到过期，丢失响应后可用它重试）',
  'developers.lifetime.session': '一通登录会话',
  'developers.lifetime.session.note':
    '从登录时起算，使用不会延长；居民在个人中心结束会话、在所有设备上退出、被锁定或修改密码后，由它签发的令牌全部失效',
  'developers.lifetime.grant': '授权（同意记录）',
  'developers.lifetime.grant.note': '从最后一次使用起算',
  'developers.refresh.title': '刷新令牌与 offline_access',
  'developers.refresh.lead':
    '要得到刷新令牌，网站登记的 grant_types 须含 refresh_token、scope 须含 offline_access，并且授权请求同时带 offline_access 和 prompt=consent；没有 prompt=consent 时一通会忽略 offline_access，不签发刷新令牌。授权页会告诉居民该网站在其离开后仍可访问。',
  'developers.logout.title': '退出登录',
  'developers.logout.rp':
    '网站发起退出：把浏览器引导到发现文档中的 end_session_endpoint，带上 id_token_hint、登记过的 post_logout_redirect_uri 和 state。居民确认后，一通结束其会话并通知该会话中的所有网站。id_token_hint 可以是一通为本网站签发的任何 ID 令牌，包括更换签名算法之前的；无法核实的 id_token_hint 按未提供处理，这时只有同时带上 client_id，才会回到 post_logout_redirect_uri。居民授予了离线访问（offline_access）的网站，刷新令牌在退出后仍然有效，但此后刷新得到的 ID 令牌不再带已结束会话的 sid。',
  'developers.logout.backchannel':
    '后台通道退出：登记 backchannel_logout_uri 后，居民退出时一通会向它 POST 一个签名的注销令牌（logout_token，ES256，用 JWKS 验证）。请同时登记 backchannel_logout_session_required: true，这样 ID 令牌和注销令牌都带 sid，网站可以准确结束对应的本地会话；否则注销令牌只带 sub。验证注销令牌的代码见 clients/demo-site/provider.ts。',
  'developers.errors.title': '错误的含义',
  'developers.errors.lead':
    '授权端点的错误通过回调地址的 error 参数返回（回调地址或客户端本身无效时，一通直接显示错误页，不会跳回网站）；令牌端点和 UserInfo 返回 JSON。',
  'developers.errors.code': '错误',
  'developers.errors.meaning': '含义和处理',
  'developers.error.access_denied': '居民在授权页拒绝了。告诉居民原因，并允许重试。',
  'developers.error.login_required':
    '使用了 prompt=none，但居民没有登录、会话强度低于所请求的 acr，或账号已被锁定、已在所有设备上退出。去掉 prompt=none 重新请求。',
  'developers.error.consent_required': '使用了 prompt=none，但居民还没有同意这些范围。',
  'developers.error.interaction_required':
    '使用了 prompt=none，但居民的实名等级低于网站的 min_identity_level。',
  'developers.error.account_selection_required':
    '使用了 prompt=none 并请求 legal_person，但居民在本网站还没有有效的代表单位。',
  'developers.error.invalid_scope': '请求了网站登记中没有的范围。',
  'developers.error.invalid_request':
    '请求不合规范，例如缺少 PKCE 的 code_challenge；error_description 说明原因。',
  'developers.error.invalid_client': '客户端认证失败：密钥错误、认证方式与登记不符，或网站已被停用。',
  'developers.error.invalid_grant':
    '授权码已过期、已使用或 code_verifier 不符；或刷新令牌已过期、已被吊销或被重复使用（重复使用会吊销整个授权）。请让居民重新登录。',
  'developers.error.invalid_token':
    'UserInfo 返回 401：访问令牌已过期，或居民的登录已结束（在所有设备上退出、被锁定、在个人中心结束了会话）。先刷新；仍失败则重新登录。',
  'developers.error.temporarily_unavailable':
    '一通暂时不可用（HTTP 503，带 Retry-After），不是网站的问题。等待 Retry-After 所示的秒数后重试。',
  'developers.error.server_error': '一通内部错误，不是网站的问题。记下时间，联系一通运维。',
  'developers.samples.title': '示例代码',
  'developers.samples.lead':
    '一通代码仓库的 clients/samples/ 中有两个可以运行的示例：授权码加 PKCE、换取令牌、UserInfo、刷新和退出地址。示例打印授权地址；在浏览器中登录后，把浏览器跳转到的回调地址粘贴回去。',
  'developers.samples.node': 'Node.js（openid-client）：',
  'developers.samples.python': 'Python（Authlib，Debian 软件包 python3-authlib 和 python3-requests）：',
  'developers.test_accounts.title': '开发环境的测试账号',
  'developers.test_accounts.demo':
    'npm run demo（以及 docker compose up）会创建演示居民：身份证号码 {idNumber}，密码 {password}。',
  'developers.test_accounts.more':
    '也可以在 /register 注册更多账号（任何符合 GB 11643 校验规则的号码都可以），或使用命令 yitong citizen create。生产环境不显示本节。',
};

export const developersEn: Record<keyof typeof developersZh, string> = {
  'developers.title': 'For departmental developers',
  'developers.lead':
    'Departmental websites connect to Yitong with OpenID Connect: a resident signs in once and moves between every government site of the province. The addresses, scopes, claims, acr values and lifetimes on this page are read from this running instance.',
  'developers.register':
    'Before you start, have your site registered: by the province’s operators from its client manifest (yitong clients add) or by your region’s administrator in the console. The client secret is shown once.',
  'developers.discovery.title': 'Discovery',
  'developers.discovery.lead':
    'Endpoints, scopes and algorithms are in the discovery document: have your code read it rather than copying addresses.',
  'developers.protocol':
    'Authorization code flow only, with PKCE (S256) required; authorization and logout requests may be a link (GET) or a form (POST); a POST’s parameters must be UTF-8 and at most 6 KiB, and larger authorization requests go through PAR; either way the parameters end up in browser history and access logs, so push anything confidential with PAR; a DPoP proof’s iat may not be more than 60 s ahead; the authorization response carries iss; ID tokens are signed with ES256 unless the registration chooses RS256 or PS256 (a dynamic registration that names none gets RS256, as OpenID Connect Dynamic Client Registration says); clients authenticate with client_secret_basic, client_secret_post or private_key_jwt; redirect URIs match exactly.',
  'developers.keys':
    'Signing keys (the JWKS at the discovery document’s jwks_uri) are rotated: a new key is published in the JWKS {delay} hours before it signs. When a token names a kid your cached JWKS lacks, fetch the JWKS again (most libraries do); cache it no longer than its Cache-Control says ({maxAge} minutes), and never beyond {delay} hours. A retired key leaves the JWKS, and the tokens it signed no longer verify.',
  'developers.scopes.title': 'Scopes',
  'developers.scopes.lead':
    'A site gets only the scopes its registration lists: others in an authorization request are left out (the token response’s scope says what was granted; a PAR or signed request is refused with invalid_scope). The consent page describes each to the person, who must agree.',
  'developers.scopes.scope': 'Scope',
  'developers.scopes.claims': 'Claims',
  'developers.scopes.consent': 'What the consent page says',
  'developers.scope_note.offline_access': 'a refresh token (see Refresh tokens)',
  'developers.scope_note.admin': 'the admin API (client credentials; sites the province designates only)',
  'developers.scope_note.admin:read':
    'the read-only admin API (client credentials; sites the province designates only)',
  'developers.claims.title': 'Claims: format and where they appear',
  'developers.claims.lead':
    'In the code flow the ID token carries only the sign-in itself, the account identifier and legal_person; fetch everything else from the UserInfo endpoint with the access token.',
  'developers.claims.claim': 'Claim',
  'developers.claims.meaning': 'Meaning',
  'developers.claims.format': 'Format',
  'developers.claims.where': 'Where',
  'developers.place.id_token': 'ID token only',
  'developers.place.both': 'ID token and UserInfo',
  'developers.place.userinfo': 'UserInfo only',
  'claim.sid': 'Yitong session id',
  'developers.format.sub':
    'a random, stable, opaque string, never the identity number; a site registered as pairwise gets a value of its own',
  'developers.format.acr': 'one of the values under Sign-in strength',
  'developers.format.amr': 'array of strings, e.g. ["pwd", "otp", "mfa"]',
  'developers.format.auth_time': 'time of the sign-in, seconds since the Unix epoch',
  'developers.format.sid':
    'the Yitong session id; present only when the site registers backchannel_logout_session_required: true, and equal to the sid of its logout tokens',
  'developers.format.name': 'the name as on the identity card',
  'developers.format.gender': 'male or female (from the identity number)',
  'developers.format.birthdate': 'YYYY-MM-DD (from the identity number)',
  'developers.format.identity_level': 'integer 1, 2 or 3 (see Identity level)',
  'developers.format.phone_number': '+86 and 11 digits, e.g. +8613800138000; only a proved number (below)',
  'developers.format.phone_number_verified': 'always true when phone_number is present',
  'developers.format.email': 'Yitong holds no email addresses at present: never released',
  'developers.format.email_verified': 'as email: never released',
  'developers.format.id_number': 'the 18-character resident identity number (the last may be X)',
  'developers.format.legal_person':
    'an object: credit_code, name, type, status, role, sub (the entity’s own id); present only while the person acts for an entity',
  'developers.format.verified_claims':
    'OpenID Connect for Identity Assurance 1.0 verified_claims: one element per type, verification (trust_framework cn_yitong, assurance_level, time, evidence) and claims',
  'developers.format.file':
    'a distributed claim (_claim_names / _claim_sources): the certificate library’s address and a 5-minute access token',
  'developers.place.verified': 'by scope: UserInfo only; by claims parameter: where requested',
  'developers.claims.file': 'the file of the {name}',
  'developers.verified.title': 'Verified information and e-certificates',
  'developers.verified.lead':
    'What departments verified is released by type: a type’s scope (verified:<type code>) gives its whole element; or ask with the claims parameter (object form; the array form is not supported) for only what you need, filtered with value, values and max_age. The person consents item by item; nothing declined, withdrawn, expired or revoked is released.',
  'developers.verified.rules':
    'A sensitive type needs authorization_details naming the service item (a code your manifest lists in service_items) and the purpose; otherwise the request is refused (invalid_request).',
  'developers.verified.sensitive': 'sensitive: needs a service item and purpose',
  'developers.phone.title': 'When phone_number is released',
  'developers.phone.lead':
    'Only a number the person proved with a code sent to it. A number merely typed at registration could be anyone’s and is never released: the consent page tells the person the site will not get it, and UserInfo has no phone_number. Once the person proves the number, the next request gets it.',
  'developers.acr.title': 'Sign-in strength (acr)',
  'developers.acr.lead':
    'The ID token’s acr says how the person really signed in, weakest to strongest below. Ask with acr_values (the weakest listed value suffices) or register default_acr_values as a floor; a weaker session is stepped up, asked only for the missing factor; with prompt=none the site gets login_required. max_age forces a new sign-in.',
  'developers.acr.how': 'How the person signed in',
  'developers.signin.pwd': 'identity number and password',
  'developers.signin.pwd_otp': 'password and an authenticator-app code',
  'developers.signin.hwk': 'a device-bound passkey',
  'developers.signin.swk': 'a synced passkey',
  'developers.signin.pwd_hwk': 'a passkey after the password',
  'developers.level.title': 'Identity level (identity_level)',
  'developers.level.lead':
    '1: self-registered with a valid number; 2: name and number confirmed against an authoritative source; 3: confirmed face to face at a service counter. A site may register min_identity_level (1–3): a person below it is shown how to raise it, never let through; with prompt=none the site gets interaction_required.',
  'developers.lifetimes.title': 'Lifetimes',
  'developers.lifetimes.lead':
    'expires_in in the token response is authoritative; these are the current settings.',
  'developers.lifetimes.what': 'What',
  'developers.lifetimes.ttl': 'Lifetime',
  'developers.lifetimes.notes': 'Notes',
  'developers.lifetime.authorizationCode': 'Authorization code',
  'developers.lifetime.authorizationCode.note': 'single use; a code used twice revokes the tokens it issued',
  'developers.lifetime.accessToken': 'Access token',
  'developers.lifetime.accessToken.note': 'for UserInfo; when it expires, use the refresh token',
  'developers.lifetime.idToken': 'ID token',
  'developers.lifetime.idToken.note': 'proves this sign-in; send it as id_token_hint at logout',
  'developers.lifetime.refreshToken': 'Refresh token',
  'developers.lifetime.refreshToken.note':
    'from its issue; every use returns a new one, and using an old one again revokes the whole grant (a fapi2 site’s is not rotated: the same one serves until it expires, so a lost response can be retried with it)',
  'developers.lifetime.session': 'Yitong session',
  'developers.lifetime.session.note':
    'from the sign-in, not extended by use; when the person ends it on My page, signs out everywhere, is locked or changes the password, every token issued through it stops working',
  'developers.lifetime.grant': 'Grant (consent)',
  'developers.lifetime.grant.note': 'from its last use',
  'developers.refresh.title': 'Refresh tokens and offline_access',
  'developers.refresh.lead':
    'To get a refresh token, the registration lists refresh_token in grant_types and offline_access in scope, and the authorization request asks for offline_access together with prompt=consent: without prompt=consent Yitong drops offline_access and issues no refresh token. The consent page tells the person the site keeps access while they are away.',
  'developers.logout.title': 'Logout',
  'developers.logout.rp':
    'RP-initiated: send the browser to the discovery document’s end_session_endpoint with id_token_hint, a registered post_logout_redirect_uri and state. Once the person confirms, Yitong ends the session and tells every site of that session. Any ID token Yitong signed for your site is a good id_token_hint, also one from before its signing algorithm changed; an id_token_hint Yitong cannot verify is treated as absent, and the person then returns to post_logout_redirect_uri only if the request also carries client_id. A site the person gave offline access (offline_access) keeps its refresh token after the logout, but ID tokens from later refreshes no longer carry the ended session’s sid.',
  'developers.logout.backchannel':
    'Back-channel: register a backchannel_logout_uri and Yitong POSTs a signed logout_token (ES256, verify it with the JWKS) there when the person signs out. Register backchannel_logout_session_required: true as well, so that the ID token and the logout token carry sid and you can end exactly that local session; otherwise the logout token carries only sub. clients/demo-site/provider.ts shows how to verify a logout token.',
  'developers.errors.title': 'What errors mean',
  'developers.errors.lead':
    'Authorization errors come back to the redirect URI as the error parameter (when the redirect URI or the client itself is invalid, Yitong shows an error page instead and never redirects); the token and UserInfo endpoints answer JSON.',
  'developers.errors.code': 'Error',
  'developers.errors.meaning': 'Meaning and what to do',
  'developers.error.access_denied': 'The person declined on the consent page. Say so and let them try again.',
  'developers.error.login_required':
    'prompt=none, but the person is not signed in, the session is weaker than the acr asked for, or the account was locked or signed out everywhere. Ask again without prompt=none.',
  'developers.error.consent_required': 'prompt=none, but the person has not agreed to these scopes yet.',
  'developers.error.interaction_required':
    'prompt=none, but the person’s identity level is below the site’s min_identity_level.',
  'developers.error.account_selection_required':
    'prompt=none with legal_person, but the person has no valid choice of entity at this site.',
  'developers.error.invalid_scope': 'A scope the site’s registration does not list.',
  'developers.error.invalid_request':
    'A malformed request, e.g. no PKCE code_challenge; error_description says what is wrong.',
  'developers.error.invalid_client':
    'Client authentication failed: a wrong secret, a method other than the registered one, or the site is disabled.',
  'developers.error.invalid_grant':
    'The code expired, was used, or the code_verifier does not match; or the refresh token expired, was revoked or was used twice (which revokes the grant). Send the person through sign-in again.',
  'developers.error.invalid_token':
    'UserInfo answers 401: the access token expired, or the person’s sign-in ended (signed out everywhere, locked, session ended on My page). Refresh; if that fails, sign in again.',
  'developers.error.temporarily_unavailable':
    'Yitong is briefly unavailable (HTTP 503 with Retry-After); not your site’s fault. Retry after that many seconds.',
  'developers.error.server_error':
    'An internal error of Yitong, not your site’s. Note the time and tell Yitong’s operators.',
  'developers.samples.title': 'Sample relying parties',
  'developers.samples.lead':
    'Two runnable samples in Yitong’s repository under clients/samples/: code flow with PKCE, token exchange, UserInfo, refresh and the logout URL. Each prints the authorization URL; sign in in a browser, then paste the URL the browser was sent back to.',
  'developers.samples.node': 'Node.js (openid-client):',
  'developers.samples.python': 'Python (Authlib; Debian packages python3-authlib and python3-requests):',
  'developers.test_accounts.title': 'Test accounts (development)',
  'developers.test_accounts.demo':
    'npm run demo (and docker compose up) creates the demo citizen: identity number {idNumber}, password {password}.',
  'developers.test_accounts.more':
    'Register more at /register (any number that passes the GB 11643 checks) or with yitong citizen create. This section is not shown in production.',
};
