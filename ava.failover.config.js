// `npm run test:failover`: the fault tests that start their own servers (several Yitong nodes
// behind HAProxy, a Redis Cluster and Sentinel, a PostgreSQL primary and standby) and kill them
// under load. One file at a time: each is a small province of its own. And the bench driver's
// own tests, which time a second of load in one process and need the cores to themselves.
export default {
  files: ['test/failover/**/*.test.ts', 'test/bench/paced.test.ts'],
  extensions: { ts: 'module' },
  timeout: '5m',
  workerThreads: false,
  concurrency: 1,
};
