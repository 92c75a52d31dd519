import { readFile } from 'node:fs/promises';
import { InputError } from './errors.js';

/** The text of an operator's input file, or an InputError naming the file and why it cannot be read. */
export async function readInputFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new InputError(file, `cannot read the file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** `text` parsed as JSON, or an InputError naming `file`. */
export function parseJsonInput(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InputError(file, `not JSON (${(error as Error).message})`);
  }
}

/** An operator's JSON input file, parsed; errors name the file. */
export async function readJsonInput(file: string): Promise<unknown> {
  return parseJsonInput(await readInputFile(file), file);
}
