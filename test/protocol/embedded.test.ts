import test from 'ava';
import { protocolSuite } from './suite.ts';

protocolSuite(test, 'pglite');
