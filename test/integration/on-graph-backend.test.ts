/**
 * The pipeline's sandbox integration suites again, with the graphVoice function applying the
 * voice commands through the Graph simulator's /admin/teams API instead of the hybrid worker.
 * Same inputs, same expected Teams state, numbers and dead letters.
 */
import { useTeamsBackend } from './sandbox-fixtures.js';

useTeamsBackend('graph');
await import('./pipeline.test.js');
await import('./lifecycle.test.js');
await import('./readiness.test.js');
await import('./graph-batching.test.js');
