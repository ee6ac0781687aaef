import { useState, type ReactNode } from 'react';
import {
  isReference,
  newRow,
  parseNumber,
  setField,
  type EnumOption,
  type FieldProblem,
  type FormField,
} from '../graph/schemaForm.js';

type Config = Record<string, unknown>;

interface FormProps {
  readonly fields: readonly FormField[];
  readonly value: Config;
  readonly onChange: (next: Config) => void;
  /** Field key → problems from the last validation ("" = the config as a whole). */
  readonly problems: ReadonlyMap<string, readonly FieldProblem[]>;
  /** Called with a field key and whether its raw text is unusable (bad JSON, not a number). */
  readonly onInvalid: (key: string, message: string | undefined) => void;
  /** Prefix of the inputs' ids, unique per form on the page (labels point at them). */
  readonly idPrefix?: string;
  /** Something to show under a field (the JSONata live preview). */
  readonly renderExtra?: (field: FormField) => ReactNode;
}

/** A config form generated from the node's JSON Schema (see graph/schemaForm.ts). */
export function SchemaForm({ fields, value, onChange, problems, onInvalid, idPrefix = 'cfg', renderExtra }: FormProps) {
  const known = new Set(fields.map((f) => f.key));
  const loose = [...problems.entries()]
    .filter(([key]) => !known.has(key))
    .flatMap(([key, list]) => list.map((p) => ({ ...p, at: key === '' ? p.at : `/${key}${p.at}` })));
  return (
    <div className="schema-form" data-testid="config-form">
      {fields.map((field) => (
        <FieldRow
          key={field.key}
          id={`${idPrefix}-${field.key}`}
          extra={renderExtra?.(field)}
          field={field}
          problems={problems.get(field.key) ?? []}
          onInvalid={(message) => onInvalid(field.key, message)}
          onChange={(next) => onChange(setField(value, field.key, next))}
        />
      ))}
      {loose.length > 0 && <Problems problems={loose} testId="field-error-config" />}
    </div>
  );
}

function Problems({ problems, testId }: { problems: readonly FieldProblem[]; testId: string }) {
  return (
    <ul className="field-problems" data-testid={testId}>
      {problems.map((p, i) => (
        <li key={i} className={p.severity}>
          {p.at && <code>{p.at}</code>} {p.message}
        </li>
      ))}
    </ul>
  );
}

function Description({ text }: { text: string }): ReactNode {
  // `code` spans as in the docs; the rest as text.
  const parts = text.split(/`([^`]*)`/);
  return (
    <span className="field-help" title={text}>
      {parts.map((part, i) => (i % 2 === 1 ? <code key={i}>{part}</code> : part))}
    </span>
  );
}

interface FieldProps {
  readonly id: string;
  readonly extra: ReactNode;
  readonly field: FormField;
  readonly problems: readonly FieldProblem[];
  readonly onChange: (next: unknown) => void;
  readonly onInvalid: (message: string | undefined) => void;
}

function FieldRow({ id, extra, field, problems, onChange, onInvalid }: FieldProps) {
  const invalid = problems.some((p) => p.severity === 'error');
  const inline = field.kind === 'boolean';
  return (
    <div className={`form-field kind-${field.kind}${invalid ? ' invalid' : ''}`} data-testid={`field-${field.key}`}>
      {inline ? (
        <label className="form-check" htmlFor={id}>
          <FieldInput id={id} field={field} onChange={onChange} onInvalid={onInvalid} />
          <span className="form-label">{field.label}</span>
        </label>
      ) : (
        <>
          <label className="form-label" htmlFor={id} id={`${id}-label`}>
            {field.label}
            {field.required && field.default === undefined && (
              <span className="required" title="required">
                {' '}
                *
              </span>
            )}
          </label>
          <FieldInput id={id} field={field} onChange={onChange} onInvalid={onInvalid} />
        </>
      )}
      {field.secret && (
        <span className="field-help secret-hint">
          Secret: use a reference, <code>{'${env:NAME}'}</code> or <code>{'${secret:NAME}'}</code>.
        </span>
      )}
      {field.description && <Description text={field.description} />}
      {problems.length > 0 && <Problems problems={problems} testId={`field-error-${field.key}`} />}
      {extra}
    </div>
  );
}

function placeholderOf(field: FormField): string | undefined {
  const hint = field.default ?? field.examples?.[0];
  if (hint === undefined) return undefined;
  return typeof hint === 'string' ? hint : JSON.stringify(hint);
}

interface InputProps {
  readonly id: string;
  readonly field: FormField;
  readonly onChange: (next: unknown) => void;
  readonly onInvalid: (message: string | undefined) => void;
}

function FieldInput({ id, field, onChange, onInvalid }: InputProps) {
  switch (field.kind) {
    case 'text':
      return <TextInput id={id} field={field} value={field.value} onChange={onChange} />;
    case 'number':
    case 'integer':
      return <NumberInput id={id} field={field} value={field.value} onChange={onChange} onInvalid={onInvalid} />;
    case 'boolean':
      return (
        <input
          id={id}
          type="checkbox"
          checked={typeof field.value === 'boolean' ? field.value : field.default === true}
          onChange={(e) => onChange(e.target.checked)}
        />
      );
    case 'enum':
      return <EnumSelect id={id} field={field} value={field.value} onChange={onChange} />;
    case 'string-list':
      return <StringList id={id} field={field} onChange={onChange} />;
    case 'record':
      return <RecordEditor id={id} field={field} onChange={onChange} />;
    case 'object-list':
      return <ObjectList id={id} field={field} onChange={onChange} onInvalid={onInvalid} />;
    case 'json':
      return <JsonInput id={id} field={field} onChange={onChange} onInvalid={onInvalid} />;
  }
}

function TextInput({
  id,
  field,
  value,
  onChange,
  ariaLabel,
}: {
  id?: string;
  field: FormField;
  value: unknown;
  onChange: (next: unknown) => void;
  ariaLabel?: string;
}) {
  const text = typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
  const hidden = field.secret && text !== '' && !isReference(text);
  return (
    <input
      id={id}
      type={hidden ? 'password' : 'text'}
      value={text}
      aria-label={ariaLabel}
      placeholder={placeholderOf(field)}
      spellCheck={false}
      autoComplete="off"
      onChange={(e) => onChange(e.target.value === '' && !field.required ? undefined : e.target.value)}
    />
  );
}

function NumberInput({
  id,
  field,
  value,
  onChange,
  onInvalid,
  ariaLabel,
}: {
  id?: string;
  field: FormField;
  value: unknown;
  onChange: (next: unknown) => void;
  onInvalid: (message: string | undefined) => void;
  ariaLabel?: string;
}) {
  // The text is kept locally so a half-typed number ("1e", "-") is not thrown away.
  const [text, setText] = useState(() => (value === undefined ? '' : String(value)));
  return (
    <input
      id={id}
      type="text"
      inputMode="decimal"
      className="number"
      value={text}
      aria-label={ariaLabel}
      placeholder={placeholderOf(field)}
      title={[field.min !== undefined && `min ${field.min}`, field.max !== undefined && `max ${field.max}`]
        .filter(Boolean)
        .join(', ')}
      onChange={(e) => {
        setText(e.target.value);
        const parsed = parseNumber(e.target.value);
        if (Number.isNaN(parsed)) return onInvalid(`${field.label}: not a number`);
        onInvalid(undefined);
        onChange(parsed);
      }}
    />
  );
}

function EnumSelect({
  id,
  field,
  value,
  onChange,
  ariaLabel,
}: {
  id?: string;
  field: FormField;
  value: unknown;
  onChange: (next: unknown) => void;
  ariaLabel?: string;
}) {
  const options = field.options ?? [];
  const index = options.findIndex((o) => o === value);
  const defaultIndex = options.findIndex((o) => o === field.default);
  const show = (o: EnumOption) => (typeof o === 'string' ? o : JSON.stringify(o));
  return (
    <select
      id={id}
      aria-label={ariaLabel}
      value={index >= 0 ? String(index) : ''}
      onChange={(e) => onChange(e.target.value === '' ? undefined : options[Number(e.target.value)])}
    >
      {/* An optional field can go back to unset (its default) after a choice. */}
      {(index < 0 || !field.required) && (
        <option value="">{defaultIndex >= 0 ? `default (${show(options[defaultIndex] ?? null)})` : '—'}</option>
      )}
      {options.map((o, i) => (
        <option key={i} value={String(i)}>
          {show(o)}
        </option>
      ))}
    </select>
  );
}

function StringList({ id, field, onChange }: { id: string; field: FormField; onChange: (next: unknown) => void }) {
  const list = Array.isArray(field.value) ? (field.value as unknown[]).map(String) : undefined;
  if (field.options) {
    const chosen = list ?? (Array.isArray(field.default) ? (field.default as unknown[]).map(String) : []);
    return (
      <div className="check-row" id={id} role="group" aria-labelledby={`${id}-label`}>
        {field.options.map((o) => (
          <label key={String(o)} className="form-check">
            <input
              type="checkbox"
              checked={chosen.includes(String(o))}
              onChange={(e) =>
                onChange(
                  field.options?.map(String).filter((x) => (x === String(o) ? e.target.checked : chosen.includes(x))),
                )
              }
            />
            <span>{String(o)}</span>
          </label>
        ))}
      </div>
    );
  }
  return (
    <textarea
      id={id}
      className="list"
      rows={Math.min(6, Math.max(2, (list?.length ?? 0) + 1))}
      value={(list ?? []).join('\n')}
      placeholder="one per line"
      spellCheck={false}
      onChange={(e) => {
        const items = e.target.value.split('\n');
        onChange(items.length === 1 && items[0] === '' ? [] : items);
      }}
    />
  );
}

function RecordEditor({ id, field, onChange }: { id: string; field: FormField; onChange: (next: unknown) => void }) {
  const record =
    typeof field.value === 'object' && field.value !== null && !Array.isArray(field.value)
      ? (field.value as Record<string, unknown>)
      : {};
  const entries = Object.entries(record);
  const write = (next: [string, unknown][]) => onChange(Object.fromEntries(next));
  const valueField: FormField = { ...field, kind: 'text', required: true, default: undefined, examples: undefined };
  return (
    <div className="kv-editor" id={id} role="group" aria-labelledby={`${id}-label`}>
      {entries.map(([key, value], i) => (
        <div className="kv-row" key={i}>
          <input
            value={key}
            aria-label={`${field.label} name ${i + 1}`}
            placeholder="name"
            spellCheck={false}
            onChange={(e) => write(entries.map((entry, j) => (j === i ? [e.target.value, entry[1]] : entry)))}
          />
          <TextInput
            field={valueField}
            value={value}
            ariaLabel={`${field.label} value ${i + 1}`}
            onChange={(next) => write(entries.map((entry, j) => (j === i ? [entry[0], next] : entry)))}
          />
          <button
            type="button"
            className="ghost icon"
            title="Remove"
            onClick={() => write(entries.filter((_, j) => j !== i))}
          >
            ×
          </button>
        </div>
      ))}
      <button
        type="button"
        className="small-button"
        disabled={'' in record}
        onClick={() => write([...entries, ['', '']])}
      >
        + Add
      </button>
    </div>
  );
}

function ObjectList({
  id,
  field,
  onChange,
  onInvalid,
}: {
  id: string;
  field: FormField;
  onChange: (next: unknown) => void;
  onInvalid: (message: string | undefined) => void;
}) {
  const rows = Array.isArray(field.value) ? (field.value as Config[]) : [];
  const columns = field.columns ?? [];
  const setCell = (i: number, key: string, next: unknown) =>
    onChange(rows.map((row, j) => (j === i ? setField(row, key, next) : row)));
  return (
    <div className="object-list" id={id} role="group" aria-labelledby={`${id}-label`}>
      {rows.length > 0 && (
        <table>
          <thead>
            <tr>
              {columns.map((c) => (
                <th key={c.key} title={c.description}>
                  {c.label}
                </th>
              ))}
              <th />
            </tr>
          </thead>
          <tbody>
            {rows.map((row, i) => (
              <tr key={i}>
                {columns.map((c) => {
                  const label = `${c.label} ${i + 1}`;
                  const cellChange = (next: unknown) => setCell(i, c.key, next);
                  return (
                    <td key={c.key} className={`kind-${c.kind}`}>
                      {c.kind === 'boolean' ? (
                        <input
                          type="checkbox"
                          aria-label={label}
                          checked={typeof row[c.key] === 'boolean' ? Boolean(row[c.key]) : c.default === true}
                          onChange={(e) => cellChange(e.target.checked)}
                        />
                      ) : c.kind === 'enum' ? (
                        <EnumSelect field={c} value={row[c.key]} onChange={cellChange} ariaLabel={label} />
                      ) : c.kind === 'number' || c.kind === 'integer' ? (
                        <NumberInput
                          field={c}
                          value={row[c.key]}
                          onChange={cellChange}
                          onInvalid={onInvalid}
                          ariaLabel={label}
                        />
                      ) : (
                        <TextInput field={c} value={row[c.key]} onChange={cellChange} ariaLabel={label} />
                      )}
                    </td>
                  );
                })}
                <td>
                  <button
                    type="button"
                    className="ghost icon"
                    title="Remove row"
                    onClick={() => onChange(rows.filter((_, j) => j !== i))}
                  >
                    ×
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <button type="button" className="small-button" onClick={() => onChange([...rows, newRow(columns)])}>
        + Add row
      </button>
    </div>
  );
}

function JsonInput({
  id,
  field,
  onChange,
  onInvalid,
}: {
  id: string;
  field: FormField;
  onChange: (next: unknown) => void;
  onInvalid: (message: string | undefined) => void;
}) {
  const [text, setText] = useState(() => (field.value === undefined ? '' : JSON.stringify(field.value, null, 2)));
  const [error, setError] = useState<string | undefined>();
  return (
    <>
      <textarea
        id={id}
        className="json"
        rows={Math.min(12, Math.max(3, text.split('\n').length))}
        value={text}
        spellCheck={false}
        placeholder={placeholderOf(field)}
        onChange={(e) => {
          setText(e.target.value);
          if (e.target.value.trim() === '') {
            setError(undefined);
            onInvalid(undefined);
            return onChange(undefined);
          }
          try {
            const parsed: unknown = JSON.parse(e.target.value);
            setError(undefined);
            onInvalid(undefined);
            onChange(parsed);
          } catch (err) {
            const message = `Not JSON: ${(err as Error).message}`;
            setError(message);
            onInvalid(`${field.label}: ${message}`);
          }
        }}
      />
      {error && <span className="field-error">{error}</span>}
    </>
  );
}
