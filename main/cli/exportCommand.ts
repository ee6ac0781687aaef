import { readFile, stat, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { MAX_FLOW_FILE_BYTES } from '../../shared/flow/flowDocument.js';
import { exportFlow, requiredEnvNote } from '../../shared/flow/exportFlow.js';
import { checkFlow, checkFlowText, formatProblems } from '../engine/flowLoader.js';

/**
 * `topicflow export <flow.json> [-o out.json] [--strip-secrets] [--keep-layout]`: the gateway copy
 * of a flow (shared/flow/exportFlow.ts). Exit 1 with every problem when refused; 2 on bad usage.
 */
export async function exportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o' },
      'strip-secrets': { type: 'boolean', default: false },
      'keep-layout': { type: 'boolean', default: false },
    },
  });
  const file = positionals[0];
  if (!file || positionals.length > 1) {
    process.stderr.write('topicflow export: name exactly one flow file\n');
    return 2;
  }
  let text: string;
  try {
    const size = (await stat(file)).size;
    if (size > MAX_FLOW_FILE_BYTES) {
      process.stderr.write(`${file}: flow file is ${size} bytes; the limit is ${MAX_FLOW_FILE_BYTES}\n`);
      return 1;
    }
    text = await readFile(file, 'utf8');
  } catch (error) {
    process.stderr.write(`topicflow export: cannot read ${file}: ${(error as Error).message}\n`);
    return 1;
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    // The parser of `validate` says where the JSON breaks.
    process.stderr.write(`${file}: invalid, nothing exported\n${formatProblems(checkFlowText(text).problems, file)}\n`);
    return 1;
  }

  // References need not be set here: the gateway resolves them.
  const result = exportFlow(document, {
    stripSecrets: values['strip-secrets'],
    keepLayout: values['keep-layout'],
    check: (d) => checkFlow(d),
  });
  if (!result.ok) {
    process.stderr.write(`${file}: refused, nothing exported\n${formatProblems(result.problems, file)}\n`);
    return 1;
  }
  const json = `${JSON.stringify(result.document, null, 2)}\n`;
  if (values.output === undefined) process.stdout.write(json);
  else await writeFile(values.output, json, { mode: 0o644 });
  const note = requiredEnvNote(result.requiredEnv);
  const warnings = result.warnings.filter((w) => w.message !== note);
  if (warnings.length > 0) process.stderr.write(`${formatProblems(warnings, file)}\n`);
  process.stderr.write(
    result.requiredEnv.length > 0
      ? `the gateway must set: ${result.requiredEnv.join(' ')}\n`
      : 'the gateway must set no environment variables (references with a fallback are optional)\n',
  );
  if (values.output !== undefined) process.stderr.write(`exported ${file} to ${values.output}\n`);
  return 0;
}
