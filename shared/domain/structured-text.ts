import { parseDocument } from 'yaml';

/**
 * Reads a YAML or JSON configuration file's text into data, or says where its syntax is broken
 * ("YAML syntax error at line 4, column 1: …", "JSON syntax error at line 4, column 1: …"). Duplicate
 * YAML keys are a syntax error. Callers turn the message into their own error, naming the file.
 */
export function readStructuredText(text: string, format: 'yaml' | 'json'): { ok: true; data: unknown } | { ok: false; message: string } {
  return format === 'json' ? readJson(text) : readYaml(text);
}

function readYaml(text: string): { ok: true; data: unknown } | { ok: false; message: string } {
  const document = parseDocument(text, { uniqueKeys: true });
  const error = document.errors[0];
  if (error !== undefined) {
    const where = error.linePos?.[0];
    const what = error.message.split(' at line ')[0] ?? error.message;
    return { ok: false, message: where ? `YAML syntax error at line ${where.line}, column ${where.col}: ${what}` : `YAML syntax error: ${what}` };
  }
  try {
    return { ok: true, data: document.toJS() as unknown };
  } catch (cause) {
    return { ok: false, message: `YAML error: ${(cause as Error).message}` };
  }
}

function readJson(text: string): { ok: true; data: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, data: JSON.parse(text) as unknown };
  } catch (cause) {
    const message = (cause as Error).message;
    const at = /^(.*?) in JSON at position (\d+)/.exec(message);
    if (at?.[1] === undefined || at[2] === undefined) return { ok: false, message: `JSON syntax error: ${message}` };
    const before = text.slice(0, Number(at[2])).split('\n');
    const line = before.length;
    const column = (before[line - 1]?.length ?? 0) + 1;
    return { ok: false, message: `JSON syntax error at line ${line}, column ${column}: ${at[1]}` };
  }
}
