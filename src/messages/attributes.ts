/** Verified attributes and e-certificates (issue 16): what a source department is told. */
export const attributesZh = {
  'attributes.title': '我的证照与数据',
  'attributes.lead':
    '各部门核验过的您的信息。网站需要时，经您同意直接获取，您不必再提交证明材料。信息有误请联系发布它的部门。',
  'attributes.source': '{department}核验于 {date}',
  'attributes.valid_until': '有效期至 {date}',
  'attributes.no_end': '长期有效',
  'attributes.expired': '已过期',
  'attributes.none': '还没有部门为您发布核验过的信息。',
  'account.glance.attributes': '各部门核验过的您的信息',
  'certificate.status.valid': '有效',
  'certificate.status.revoked': '已注销',
  'certificate.status.expired': '已过期',
  'attribute.invalid': '记录格式不正确：{detail}',
  'attribute.type_unknown': '没有这个数据类型：{detail}（见 attributes/ 目录中的目录清单）',
  'attribute.not_yours': '本网站登记中未列出可发布 {detail} 类型的数据（登记清单中的 publishes）。',
  'attribute.value': '数据值不符合该类型的格式：{detail}',
  'attribute.holder_kind':
    '{detail} 类型的数据属于另一类持有人（个人用身份证号码，单位用统一社会信用代码）。',
  'attribute.holder_unknown':
    '该个人或单位还没有一通账号：一通只保存其服务对象的数据，请在其注册后重新发布。',
  'attribute.too_many': '一次最多提交 {max} 行，请分批提交。',
  'certificate_id.prefix': '电子证照标识须以 1.2.156.3005.2. 开头。',
  'certificate_id.structure': '电子证照标识的结构不正确（类型代码.颁发机构代码.流水号.版本号.校验位）。',
  'certificate_id.issuer': '电子证照标识中的颁发机构统一社会信用代码无效。',
  'certificate_id.check': '电子证照标识的校验位不正确。',
};

export const attributesEn: Record<keyof typeof attributesZh, string> = {
  'attributes.title': 'My certificates and data',
  'attributes.lead':
    'What departments have verified about you. A site that needs it gets it with your consent, so you never hand in proof again. If something is wrong, contact the department that published it.',
  'attributes.source': 'verified by {department} on {date}',
  'attributes.valid_until': 'valid until {date}',
  'attributes.no_end': 'no end date',
  'attributes.expired': 'expired',
  'attributes.none': 'No department has published verified information about you yet.',
  'account.glance.attributes': 'What departments have verified about you',
  'certificate.status.valid': 'valid',
  'certificate.status.revoked': 'revoked',
  'certificate.status.expired': 'expired',
  'attribute.invalid': 'The record is not valid: {detail}',
  'attribute.type_unknown': 'There is no attribute type {detail} (see the catalogue in attributes/).',
  'attribute.not_yours':
    'This client’s manifest does not list {detail} among the types it publishes (publishes).',
  'attribute.value': 'The value does not fit its type: {detail}',
  'attribute.holder_kind':
    'Values of {detail} belong to the other kind of holder (a person by identity number, an entity by credit code).',
  'attribute.holder_unknown':
    'This person or entity has no Yitong account: Yitong keeps data only of those it serves; publish again once they register.',
  'attribute.too_many': 'At most {max} lines a request: send them in batches.',
  'certificate_id.prefix': 'An e-certificate identifier begins with 1.2.156.3005.2.',
  'certificate_id.structure':
    'The e-certificate identifier is not shaped type code.issuer code.serial.version.check character.',
  'certificate_id.issuer': 'The issuer’s unified social credit code in the identifier is not valid.',
  'certificate_id.check': 'The e-certificate identifier’s check character is wrong.',
};
