import { isDialtoneError } from '../shared/domain/errors.js';
import { processIo } from './io.js';
import { buildProgram } from './program.js';

try {
  await buildProgram(processIo).parseAsync(process.argv);
} catch (error) {
  processIo.err(`dialtone: ${isDialtoneError(error) ? `${error.code}: ${error.message}` : (error as Error).message}`);
  process.exitCode = 1;
}
