/**
 * Checks of what the page sends to main's IPC handlers. The page is sandboxed and trusted only as
 * far as its origin (security.ts isTrustedSender); its arguments are still checked here, because
 * main writes files and keychain entries with them.
 */
import { MAX_DIALOG_FILE_BYTES, MAX_SECRET_BYTES, SECRET_NAME } from '../../shared/desktop/desktopBridge.js';

export class InvalidArgument extends Error {
  override readonly name = 'InvalidArgument';
}

export function secretName(value: unknown): string {
  if (typeof value !== 'string' || !SECRET_NAME.test(value)) {
    throw new InvalidArgument('a secret name is 1 to 128 letters, digits or "_", not starting with a digit');
  }
  return value;
}

export function secretValue(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidArgument('a secret value must be a string');
  if (value === '') throw new InvalidArgument('a secret value must not be empty (remove the secret instead)');
  if (Buffer.byteLength(value) > MAX_SECRET_BYTES) {
    throw new InvalidArgument(`a secret value is at most ${MAX_SECRET_BYTES} bytes`);
  }
  return value;
}

/** A file name to suggest in the save dialog: no folders, no control characters, ends in .json. */
export function suggestedFileName(value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new InvalidArgument('a suggested file name is a string of 1 to 200 characters');
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  const base = value.replace(/[/\\:*?"<>|\u0000-\u001f]/g, '_').replace(/^\.+/, '');
  if (base === '') throw new InvalidArgument(`"${value}" is not usable as a file name`);
  return base.toLowerCase().endsWith('.json') ? base : `${base}.json`;
}

export function flowText(value: unknown): string {
  if (typeof value !== 'string') throw new InvalidArgument('the flow to export must be JSON text');
  if (Buffer.byteLength(value) > MAX_DIALOG_FILE_BYTES) {
    throw new InvalidArgument(`a flow file is at most ${MAX_DIALOG_FILE_BYTES} bytes`);
  }
  return value;
}

export function booleanArgument(value: unknown): boolean {
  if (typeof value !== 'boolean') throw new InvalidArgument('expected true or false');
  return value;
}
