/**
 * The development citizen that `npm run demo` (and the docker-compose stack) creates, and the
 * developer page shows outside production.
 */
export const DEMO_CITIZEN = {
  idNumber: '11010519491231002X',
  name: '张三',
  phone: '13800138000',
  password: 'yitong-demo-2026',
} as const;
