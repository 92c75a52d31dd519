import { processIo } from './io.js';
import { runCli } from './program.js';

await runCli(processIo, process.argv);
