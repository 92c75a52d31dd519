// Marks dist/ as built from the current sources (bin/dialtone.js rebuilds when a source is newer).
import { writeFileSync } from 'node:fs';
import { URL } from 'node:url';

writeFileSync(new URL('../dist/.build-stamp', import.meta.url), new Date().toISOString());
