import test from 'ava';
import { legalPersonSuite } from './legal-person-suite.ts';

legalPersonSuite(test, 'pglite');
