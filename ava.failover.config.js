// `npm run test:failover`: the fault tests that start their own servers (several Yitong nodes
// behind HAProxy, a Redis Cluster and Sentinel, a PostgreSQL primary and standby) and kill them
// under load. One file at a time: each is a small province of its own.
export default {
  files: ['test/failover/**/*.test.ts'],
  extensions: { ts: 'module' },
  timeout: '5m',
  workerThreads: false,
  concurrency: 1,
};
