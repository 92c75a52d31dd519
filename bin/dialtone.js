#!/usr/bin/env node
// The `dialtone` command. Runs the TypeScript sources through tsx so that
// `npm ci && npx dialtone …` works without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
