/**
 * The desktop keychain of `${secret:NAME}` values: `<userData>/secrets.json`, each value encrypted
 * with Electron's safeStorage (the OS keychain: macOS Keychain, Windows DPAPI, libsecret/kwallet).
 * Where the OS offers none (`isEncryptionAvailable()` false, or Linux's `basic_text` backend, whose
 * key is a constant), values are kept as plain text and `status().encrypted` is false so the editor
 * shows a warning. Values never leave main except to the engine process; they are never logged.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync, unlinkSync, statSync } from 'node:fs';
import type { SecretsStatus } from '../../shared/desktop/desktopBridge.js';

/** What the store needs of safeStorage (an interface, so tests inject one; safeStorage needs Electron). */
export interface Encryptor {
  isEncryptionAvailable(): boolean;
  /** `keychain`, `dpapi`, `gnome_libsecret`, `kwallet*`, `basic_text`, `unknown`. */
  backend(): string;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/** Backends that do not protect anything: the value is as good as plain text. */
const NOT_A_KEYCHAIN = new Set(['basic_text']);
export const MAX_SECRETS = 256;
const MAX_FILE_BYTES = 32 * 1024 * 1024;

interface StoredEntry {
  /** base64 of safeStorage's ciphertext, or the plain value. */
  readonly value: string;
  readonly encrypted: boolean;
}

interface SecretsFile {
  readonly format: 'topicflow/secrets@1';
  readonly entries: Record<string, StoredEntry>;
}

export interface SecretsLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

export class SecretsStore {
  private readonly values = new Map<string, string>();
  /** Names whose stored value could not be decrypted (the keychain changed); kept, not served. */
  private readonly unreadable = new Map<string, StoredEntry>();

  private constructor(
    private readonly path: string,
    private readonly encryptor: Encryptor,
    private readonly log: SecretsLog | undefined,
  ) {}

  /** Reads the file (a missing file is an empty store; a corrupt one is an error naming the file). */
  static open(path: string, encryptor: Encryptor, log?: SecretsLog): SecretsStore {
    const store = new SecretsStore(path, encryptor, log);
    store.load();
    return store;
  }

  /** Whether values are really encrypted here. */
  encrypted(): boolean {
    return this.encryptor.isEncryptionAvailable() && !NOT_A_KEYCHAIN.has(this.encryptor.backend());
  }

  status(): SecretsStatus {
    return {
      encrypted: this.encrypted(),
      backend: this.encryptor.isEncryptionAvailable() ? this.encryptor.backend() : 'none',
      names: [...this.values.keys()].sort(),
    };
  }

  get(name: string): string | undefined {
    return this.values.get(name);
  }

  /** Every readable secret, for the engine process. */
  snapshot(): Record<string, string> {
    return Object.fromEntries(this.values);
  }

  set(name: string, value: string): void {
    if (!this.values.has(name) && this.values.size + this.unreadable.size >= MAX_SECRETS) {
      throw new Error(`at most ${MAX_SECRETS} secrets can be kept`);
    }
    this.values.set(name, value);
    this.unreadable.delete(name);
    this.save();
  }

  remove(name: string): boolean {
    const existed = this.values.delete(name) || this.unreadable.delete(name);
    if (existed) this.save();
    return existed;
  }

  private load(): void {
    let text: string;
    try {
      const size = statSync(this.path).size;
      if (size > MAX_FILE_BYTES) throw new Error(`${this.path} is ${size} bytes; the limit is ${MAX_FILE_BYTES}`);
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    let parsed: SecretsFile;
    try {
      parsed = JSON.parse(text) as SecretsFile;
    } catch (error) {
      throw new Error(`${this.path} is not JSON: ${(error as Error).message}`);
    }
    if (parsed?.format !== 'topicflow/secrets@1' || typeof parsed.entries !== 'object' || parsed.entries === null) {
      throw new Error(`${this.path} is not a TopicFlow secrets file (format topicflow/secrets@1)`);
    }
    for (const [name, entry] of Object.entries(parsed.entries)) {
      if (typeof entry?.value !== 'string' || typeof entry.encrypted !== 'boolean') continue;
      if (!entry.encrypted) {
        this.values.set(name, entry.value);
        continue;
      }
      try {
        if (!this.encryptor.isEncryptionAvailable()) throw new Error('no keychain available now');
        this.values.set(name, this.encryptor.decryptString(Buffer.from(entry.value, 'base64')));
      } catch (error) {
        this.unreadable.set(name, entry);
        this.log?.warn({ secret: name, err: (error as Error).message }, 'a stored secret cannot be decrypted');
      }
    }
  }

  /** Writes every entry in the current mode (plain entries become encrypted once a keychain exists). */
  private save(): void {
    const encrypt = this.encrypted();
    const entries: Record<string, StoredEntry> = {};
    for (const [name, value] of this.values) {
      entries[name] = encrypt
        ? { value: this.encryptor.encryptString(value).toString('base64'), encrypted: true }
        : { value, encrypted: false };
    }
    for (const [name, entry] of this.unreadable) entries[name] = entry;
    const file: SecretsFile = { format: 'topicflow/secrets@1', entries };
    // Atomic: a crash mid-write leaves the old file, never half of one. 0600: only this user reads it.
    const temporary = `${this.path}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      renameSync(temporary, this.path);
    } catch (error) {
      try {
        unlinkSync(temporary);
      } catch {
        // nothing was written
      }
      throw new Error(`cannot write ${this.path}: ${(error as Error).message}`);
    }
  }
}
