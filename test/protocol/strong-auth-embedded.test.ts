import test from 'ava';
import { strongAuthSuite } from './strong-auth-suite.ts';

strongAuthSuite(test, 'pglite');
