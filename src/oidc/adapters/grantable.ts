/** The artifacts bound to a grant: revoking the grant (code replay, logout, refresh reuse) removes them all. */
export const GRANTABLE_MODELS = [
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
];
